package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/gateway/auth"
	"github.com/ehigate/ehigate/gateway/demo"
)

// searchBundle is what the e2e test reads of a searchset.
type searchBundle struct {
	ResourceType string `json:"resourceType"`
	Total        *int   `json:"total"`
	Entry        []struct {
		Resource struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			Subject      struct {
				Reference string `json:"reference"`
			} `json:"subject"`
			Category json.RawMessage `json:"category"`
		} `json:"resource"`
		Search struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

func readBundle(t *testing.T, b []byte) searchBundle {
	t.Helper()
	var sb searchBundle
	if err := json.Unmarshal(b, &sb); err != nil || sb.ResourceType != "Bundle" {
		t.Fatalf("not a Bundle (%v): %.300s", err, b)
	}
	return sb
}

// subjects counts the searchset's Observations by subject.
func (sb searchBundle) subjects() map[string]int {
	m := map[string]int{}
	for _, e := range sb.Entry {
		if e.Resource.ResourceType == "Observation" {
			m[e.Resource.Subject.Reference]++
		}
	}
	return m
}

// demoUpstream is the in-memory FHIR server with three generated patients.
func demoUpstream(t *testing.T) *demo.Server {
	t.Helper()
	up := demo.NewServer(demo.Options{BasePath: "/baseR4"})
	for _, r := range demo.Generate(3, 1, time.Now()) {
		if err := up.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	return up
}

// TestPatientContextEndToEnd: a patient-context token reads its own
// Observations, is refused another patient's, and sees only its own
// entries in a search that would otherwise mix patients.
func TestPatientContextEndToEnd(t *testing.T) {
	ik := newIssuerKit(t)
	up := demoUpstream(t)
	hs := newHarness(t, up, ik.withAuth(t, auth.ModeVerify))
	tok := ik.token(t, hs.base) // demo-1, patient/*.rs
	system := ik.token(t, hs.base, "scope", "system/*.rs", "patient", nil)

	// Ids of each patient's Observations, straight from the upstream.
	_, b := do(t, http.MethodGet, hs.upBase+"/Observation?code=8867-4&_count=500", "", "")
	all := readBundle(t, b).subjects()
	if all["Patient/demo-1"] == 0 || all["Patient/demo-2"] == 0 {
		t.Fatalf("demo data lacks heart rates: %v", all)
	}
	_, b = do(t, http.MethodGet, hs.upBase+"/Observation?patient=demo-2&_count=1", "", "")
	otherObs := readBundle(t, b).Entry[0].Resource.ID
	_, b = do(t, http.MethodGet, hs.upBase+"/Observation?patient=demo-1&_count=1", "", "")
	ownObs := readBundle(t, b).Entry[0].Resource.ID

	type check struct {
		status   int
		reason   string
		patients string
	}
	ids := map[string]check{}
	var lastID string
	step := func(name, method, path, body string, token string, want check) []byte {
		t.Helper()
		resp, b := do(t, method, hs.base+path, token, body)
		if resp.StatusCode != want.status {
			t.Fatalf("%s: status %d, want %d: %.400s", name, resp.StatusCode, want.status, b)
		}
		if strings.Contains(string(b), hs.upBase) {
			t.Errorf("%s: upstream base leaked", name)
		}
		lastID = resp.Header.Get(gateway.HeaderDecision)
		ids[lastID] = want
		return b
	}

	b = step("own Observations", "GET", "/Observation?patient=demo-1&_count=500", "", tok, check{200, "", "demo-1"})
	if s := readBundle(t, b).subjects(); len(s) != 1 || s["Patient/demo-1"] == 0 {
		t.Errorf("own search returned %v", s)
	}
	step("own Observation", "GET", "/Observation/"+ownObs, "", tok, check{200, "", "demo-1"})
	step("another patient's Observations", "GET", "/Observation?patient=demo-2", "", tok, check{403, "wrong-patient", "demo-2"})
	step("another Patient", "GET", "/Patient/demo-2", "", tok, check{403, "wrong-patient", "demo-2"})
	b = step("another patient's Observation by id", "GET", "/Observation/"+otherObs, "", tok, check{404, "wrong-patient", ""})
	if strings.Contains(string(b), "demo-2") || !strings.Contains(string(b), "not-found") {
		t.Errorf("404 body: %s", b)
	}
	// The same through gzip: the empty compressed stream left after the
	// withheld resource must not start a response.
	resp, gz := do(t, http.MethodGet, hs.base+"/Observation/"+otherObs, tok, "", "Accept-Encoding", "gzip")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Encoding") != "" || !strings.Contains(string(gz), "not-found") {
		t.Errorf("gzip read of another patient's Observation: %d %q %.200q", resp.StatusCode, resp.Header.Get("Content-Encoding"), gz)
	}
	ids[resp.Header.Get(gateway.HeaderDecision)] = check{404, "wrong-patient", ""}
	resp, gz = do(t, http.MethodGet, hs.base+"/Observation/"+ownObs, tok, "", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("gzip read of own Observation: %d %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	ids[resp.Header.Get(gateway.HeaderDecision)] = check{200, "", "demo-1"}
	step("batch reaching another patient", "POST", "",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/demo-1"}},{"request":{"method":"GET","url":"Patient/demo-2"}}]}`,
		tok, check{403, "wrong-patient", ""})

	// A search naming no patient would mix them; it is narrowed.
	b = step("mixed search", "GET", "/Observation?code=8867-4&_count=500", "", tok, check{200, "", "demo-1"})
	mixedID := lastID
	mixed := readBundle(t, b)
	if s := mixed.subjects(); len(s) != 1 || s["Patient/demo-1"] != all["Patient/demo-1"] {
		t.Errorf("mixed search returned %v, want only demo-1's %d", s, all["Patient/demo-1"])
	}
	if mixed.Total == nil || *mixed.Total != all["Patient/demo-1"] {
		t.Errorf("total %v, want %d", mixed.Total, all["Patient/demo-1"])
	}

	b = step("own $everything", "GET", "/Patient/demo-1/$everything?_count=1000", "", tok, check{200, "", "demo-1"})
	for _, e := range readBundle(t, b).Entry {
		if r := e.Resource.Subject.Reference; r != "" && r != "Patient/demo-1" {
			t.Errorf("$everything released %s/%s of %s", e.Resource.ResourceType, e.Resource.ID, r)
		}
	}

	// A system token is not limited to a patient.
	b = step("system search", "GET", "/Observation?code=8867-4&_count=500", "", system, check{200, "", ""})
	if s := readBundle(t, b).subjects(); len(s) != len(all) {
		t.Errorf("system token saw %v, want %v", s, all)
	}

	recs := byID(t, hs.records())
	// Narrowed upstream: nothing had to be withheld on the way back.
	if r := recs[mixedID]; len(r.Withheld) != 0 || strings.Join(r.Patients, ",") != "demo-1" {
		t.Errorf("mixed search record: withheld %v, patients %v", r.Withheld, r.Patients)
	}
	for id, want := range ids {
		r, ok := recs[id]
		if !ok {
			t.Errorf("no record %s", id)
			continue
		}
		if r.Status != want.status || r.Reason != want.reason {
			t.Errorf("record %s: status %d reason %q, want %d %q", id, r.Status, r.Reason, want.status, want.reason)
		}
		if want.patients != "" && !strings.Contains(","+strings.Join(r.Patients, ",")+",", ","+want.patients+",") {
			t.Errorf("record %s: patients %v, want %s", id, r.Patients, want.patients)
		}
		if want.status == 403 && r.Action != decision.Deny {
			t.Errorf("record %s: action %s", id, r.Action)
		}
		if want.status == 404 {
			if len(r.Withheld) != 1 || r.Withheld[0].ID != otherObs || r.Withheld[0].Policy != gateway.ScopePolicy {
				t.Errorf("record %s: withheld %+v", id, r.Withheld)
			}
			if strings.Contains(strings.Join(r.Patients, ","), "demo-2") {
				t.Errorf("record %s counts the withheld patient as released: %v", id, r.Patients)
			}
		}
	}
}

// TestPatientContextFiltersResponses: when the upstream ignores the
// patient parameter the gateway adds, or a granular scope limits the
// categories, the response is filtered resource by resource.
func TestPatientContextFiltersResponses(t *testing.T) {
	ik := newIssuerKit(t)
	up := demoUpstream(t)
	// An upstream that ignores patient parameters, as a lenient server may.
	lenient := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Del("patient")
		r.URL.RawQuery = q.Encode()
		up.ServeHTTP(w, r)
	})
	hs := newHarness(t, lenient, ik.withAuth(t, auth.ModeVerify))
	_, b := do(t, http.MethodGet, hs.upBase+"/Observation?code=8867-4&_count=500", "", "")
	all := readBundle(t, b).subjects()
	others := all["Patient/demo-2"] + all["Patient/demo-3"]

	resp, b := do(t, http.MethodGet, hs.base+"/Observation?code=8867-4&_count=500", ik.token(t, hs.base), "")
	sb := readBundle(t, b)
	if s := sb.subjects(); resp.StatusCode != 200 || len(s) != 1 || s["Patient/demo-1"] != all["Patient/demo-1"] {
		t.Fatalf("filtered search: %d %v", resp.StatusCode, s)
	}
	if sb.Total == nil || *sb.Total != all["Patient/demo-1"] {
		t.Errorf("total %v, want %d", sb.Total, all["Patient/demo-1"])
	}
	filteredID := resp.Header.Get(gateway.HeaderDecision)

	lab := "patient/Observation.rs?category=" + url.QueryEscape("http://terminology.hl7.org/CodeSystem/observation-category|laboratory")
	resp, b = do(t, http.MethodGet, hs.base+"/Observation?patient=demo-1&_count=500", ik.token(t, hs.base, "scope", "launch/patient "+lab), "")
	sb = readBundle(t, b)
	labs := 0
	for _, e := range sb.Entry {
		if e.Resource.ResourceType != "Observation" {
			continue
		}
		var cat []struct {
			Coding []struct{ Code string } `json:"coding"`
		}
		json.Unmarshal(e.Resource.Category, &cat)
		if len(cat) == 0 || len(cat[0].Coding) == 0 || cat[0].Coding[0].Code != "laboratory" || e.Resource.Subject.Reference != "Patient/demo-1" {
			t.Errorf("granular scope released %s (%s)", e.Resource.ID, e.Resource.Category)
		}
		labs++
	}
	if resp.StatusCode != 200 || labs == 0 {
		t.Errorf("granular search: %d, %d lab results", resp.StatusCode, labs)
	}
	granularID := resp.Header.Get(gateway.HeaderDecision)

	recs := byID(t, hs.records())
	r := recs[filteredID]
	n := 0
	for _, w := range r.Withheld {
		if w.Policy == gateway.ScopePolicy && w.Type == "Observation" {
			n += w.Count
		}
	}
	if n != others || r.Action != decision.Allow {
		t.Errorf("filtered record: %d withheld by scope, want %d (action %s)", n, others, r.Action)
	}
	if strings.Join(r.Patients, ",") != "demo-1" {
		t.Errorf("filtered record patients %v", r.Patients)
	}
	if g := recs[granularID]; len(g.Withheld) == 0 {
		t.Error("granular record withholds nothing")
	}
}
