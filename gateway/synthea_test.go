package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ehigate/ehigate/fhir/fhirdata"
)

// syntheaEHR is an upstream serving real Synthea records the way a FHIR
// server would after loading them: urn:uuid references resolved to
// Type/id, absolute fullUrls and paging links under its own base. It
// serves every resource byte for byte as Synthea wrote it otherwise.
type syntheaEHR struct {
	mu        sync.Mutex
	raw       map[string][]byte   // "Type/id" -> resource JSON
	byPatient map[string][]string // patient id -> "Type/id" keys, in file order
	patients  []string
}

func loadSynthea(t testing.TB, files ...string) *syntheaEHR {
	t.Helper()
	s := &syntheaEHR{raw: map[string][]byte{}, byPatient: map[string][]string{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entry []struct {
				FullURL  string          `json:"fullUrl"`
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			continue // not a Bundle we can use
		}
		ref := map[string]string{}
		keys := make([]string, len(b.Entry))
		for i, e := range b.Entry {
			var h struct{ ResourceType, ID string }
			json.Unmarshal(e.Resource, &h)
			keys[i] = h.ResourceType + "/" + h.ID
			ref[e.FullURL] = keys[i]
		}
		var old []string
		for u, k := range ref {
			old = append(old, `"`+u+`"`, `"`+k+`"`)
		}
		rep := strings.NewReplacer(old...)
		patient := ""
		for i, e := range b.Entry {
			if strings.HasPrefix(keys[i], "Patient/") {
				patient = strings.TrimPrefix(keys[i], "Patient/")
				s.patients = append(s.patients, patient)
			}
			s.raw[keys[i]] = []byte(rep.Replace(string(e.Resource)))
			s.byPatient[patient] = append(s.byPatient[patient], keys[i])
		}
	}
	return s
}

func (s *syntheaEHR) base(r *http.Request) string { return "http://" + r.Host + "/baseR4" }

func (s *syntheaEHR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/baseR4/")
	segs := strings.Split(path, "/")
	h := w.Header()
	h.Set("Content-Type", "application/fhir+json;charset=utf-8")
	switch {
	case len(segs) == 2 && r.Method == http.MethodGet:
		raw, ok := s.raw[path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)
			return
		}
		h.Set("Content-Location", s.base(r)+"/"+path+"/_history/1")
		h.Set("ETag", `W/"1"`)
		w.Write(raw)
	case len(segs) == 3 && segs[0] == "Patient" && segs[2] == "$everything":
		s.bundle(w, r, s.byPatient[segs[1]], "", 0, 0)
	case len(segs) == 1 && r.Method == http.MethodGet:
		s.search(w, r, segs[0])
	default:
		w.WriteHeader(http.StatusNotImplemented)
		fmt.Fprint(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported"}]}`)
	}
}

// search serves T?patient=id with _count paging (absolute next links).
func (s *syntheaEHR) search(w http.ResponseWriter, r *http.Request, typ string) {
	q := r.URL.Query()
	var keys []string
	for _, k := range s.byPatient[q.Get("patient")] {
		if strings.HasPrefix(k, typ+"/") {
			keys = append(keys, k)
		}
	}
	count, _ := strconv.Atoi(q.Get("_count"))
	page, _ := strconv.Atoi(q.Get("page"))
	if count <= 0 {
		count = 50
	}
	self := fmt.Sprintf("%s/%s?patient=%s&_count=%d&page=%d", s.base(r), typ, q.Get("patient"), count, page)
	s.bundle(w, r, keys, self, count, page)
}

func (s *syntheaEHR) bundle(w http.ResponseWriter, r *http.Request, keys []string, self string, count, page int) {
	total := len(keys)
	if count > 0 {
		lo := min(page*count, len(keys))
		hi := min(lo+count, len(keys))
		keys = keys[lo:hi]
	}
	fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":%d,"link":[`, total)
	if self != "" {
		fmt.Fprintf(w, `{"relation":"self","url":%q}`, self)
		if (page+1)*count < total {
			next := strings.Replace(self, "page="+strconv.Itoa(page), "page="+strconv.Itoa(page+1), 1)
			fmt.Fprintf(w, `,{"relation":"next","url":%q}`, next)
		}
	} else {
		fmt.Fprintf(w, `{"relation":"self","url":%q}`, s.base(r)+r.URL.Path[len("/baseR4"):])
	}
	fmt.Fprint(w, `],"entry":[`)
	for i, k := range keys {
		if i > 0 {
			w.Write([]byte(","))
		}
		fmt.Fprintf(w, `{"fullUrl":%q,"resource":`, s.base(r)+"/"+k)
		w.Write(s.raw[k])
		fmt.Fprint(w, `,"search":{"mode":"match"}}`)
	}
	fmt.Fprint(w, `]}`)
}

// smallestSynthea returns the n smallest Synthea files.
func smallestSynthea(t testing.TB, n int) []string {
	files := fhirdata.Synthea(t)
	sort.Slice(files, func(i, j int) bool { return size(files[i]) < size(files[j]) })
	return files[:min(n, len(files))]
}

func size(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp, buf.Bytes()
}

// TestSyntheaByteIdentical fetches real Synthea records directly and
// through the gateway: the bodies must be identical but for the base URL,
// and the records must say what was returned and whose it was.
func TestSyntheaByteIdentical(t *testing.T) {
	ehr := loadSynthea(t, smallestSynthea(t, 2)...)
	hs := newHarness(t, ehr)
	c := client()
	type want struct {
		interaction string
		patient     string
	}
	ids := map[string]want{}
	for _, p := range ehr.patients {
		for _, rel := range []string{
			"/Patient/" + p,
			"/Observation?patient=" + p + "&_count=7",
			"/Condition?patient=" + p,
			"/Patient/" + p + "/$everything",
		} {
			dresp, direct := get(t, c, hs.upBase+rel)
			gresp, through := get(t, c, hs.base+rel)
			if gresp.StatusCode != dresp.StatusCode {
				t.Fatalf("%s: status %d through the gateway, %d direct", rel, gresp.StatusCode, dresp.StatusCode)
			}
			wantBody := bytes.ReplaceAll(direct, []byte(hs.upBase), []byte(hs.base))
			if !bytes.Equal(through, wantBody) {
				t.Fatalf("%s: body through the gateway differs from the upstream's with the base rewritten (%d vs %d bytes)", rel, len(through), len(wantBody))
			}
			if bytes.Contains(through, []byte(hs.upBase)) {
				t.Fatalf("%s: upstream base leaked", rel)
			}
			if cl := gresp.Header.Get("Content-Location"); cl != "" && !strings.HasPrefix(cl, hs.base) {
				t.Errorf("%s: Content-Location %q not rewritten", rel, cl)
			}
			id := gresp.Header.Get("X-Ehigate-Decision")
			if id == "" {
				t.Fatalf("%s: no decision header", rel)
			}
			ids[id] = want{patient: p}
		}
	}
	recs := byID(t, hs.records())
	for id, w := range ids {
		r, ok := recs[id]
		if !ok {
			t.Fatalf("no record for decision %s", id)
		}
		if r.FulfilledAt == nil || r.Status != 200 || r.UpstreamStatus != 200 || r.BytesOut == 0 {
			t.Errorf("record %s incomplete: %+v", id, r)
		}
		if len(r.Patients) != 1 || r.Patients[0] != w.patient {
			t.Errorf("record %s (%s %s): patients %v, want [%s]", id, r.Interaction, r.Path, r.Patients, w.patient)
		}
		if len(r.ResourcesReturned) == 0 {
			t.Errorf("record %s: no resources counted", id)
		}
	}
}

// TestPagingLinksFollowable follows next links through the gateway to the
// end: every link points at the gateway and every entry arrives once.
func TestPagingLinksFollowable(t *testing.T) {
	ehr := loadSynthea(t, smallestSynthea(t, 1)...)
	p := ehr.patients[0]
	var wantObs int
	for _, k := range ehr.byPatient[p] {
		if strings.HasPrefix(k, "Observation/") {
			wantObs++
		}
	}
	if wantObs < 10 {
		t.Skip("patient has too few observations to page")
	}
	hs := newHarness(t, ehr)
	c := client()
	next := hs.base + "/Observation?patient=" + p + "&_count=4"
	seen := map[string]bool{}
	pages := 0
	for next != "" {
		if !strings.HasPrefix(next, hs.base) {
			t.Fatalf("link escapes the gateway: %s", next)
		}
		_, body := get(t, c, next)
		var b struct {
			Link  []struct{ Relation, URL string }
			Entry []struct {
				FullURL string `json:"fullUrl"`
			}
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		next = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				next = l.URL
			}
		}
		for _, e := range b.Entry {
			if !strings.HasPrefix(e.FullURL, hs.base+"/Observation/") || seen[e.FullURL] {
				t.Fatalf("bad or repeated fullUrl %s", e.FullURL)
			}
			seen[e.FullURL] = true
		}
		pages++
	}
	if len(seen) != wantObs || pages < 3 {
		t.Fatalf("paged %d entries in %d pages, want %d", len(seen), pages, wantObs)
	}
	if n := len(hs.records()); n != pages {
		t.Fatalf("%d records for %d requests", n, pages)
	}
}
