package admin

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"

	"github.com/ehigate/ehigate/decision/export"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

var (
	r4Once sync.Once
	r4     *jsonformat.Unmarshaller
)

// validR4 fails unless b is a valid R4 resource for google/fhir's
// validating unmarshaller.
func validR4(t *testing.T, b []byte) {
	t.Helper()
	r4Once.Do(func() {
		u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
		if err != nil {
			panic(err)
		}
		r4 = u
	})
	if _, err := r4.Unmarshal(b); err != nil {
		t.Fatalf("not valid R4: %v\n%s", err, b)
	}
}

type bundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Link         []struct{ Relation, URL string }
	Entry        []struct {
		FullURL  string `json:"fullUrl"`
		Resource struct {
			ID      string `json:"id"`
			Outcome string `json:"outcome"`
			Entity  []struct {
				What *struct{ Reference string } `json:"what"`
			} `json:"entity"`
		} `json:"resource"`
	} `json:"entry"`
}

func (b *bundle) ids() []string {
	var out []string
	for _, e := range b.Entry {
		out = append(out, e.Resource.ID)
	}
	return out
}

func (b *bundle) next() string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// search follows next links from path and returns every event id, in
// order, checking each page is a valid R4 searchset Bundle with absolute
// links.
func (f *fixture) search(t *testing.T, path string) []string {
	t.Helper()
	var all []string
	for pages := 0; path != ""; pages++ {
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		code, hdr, b := f.do("GET", path, auditorToken, "")
		if code != 200 || hdr.Get("Content-Type") != "application/fhir+json" {
			t.Fatalf("GET %s: %d %s\n%s", path, code, hdr.Get("Content-Type"), b)
		}
		validR4(t, b)
		var bd bundle
		if err := json.Unmarshal(b, &bd); err != nil || bd.ResourceType != "Bundle" || bd.Type != "searchset" {
			t.Fatalf("not a searchset: %v %s", err, b)
		}
		for _, e := range bd.Entry {
			if e.FullURL != f.srv.URL+"/fhir/AuditEvent/"+e.Resource.ID {
				t.Fatalf("fullUrl %q", e.FullURL)
			}
		}
		all = append(all, bd.ids()...)
		next := bd.next()
		if next != "" && !strings.HasPrefix(next, f.srv.URL+"/fhir/AuditEvent?") {
			t.Fatalf("next link %q is not absolute", next)
		}
		path = strings.TrimPrefix(next, f.srv.URL)
	}
	return all
}

func TestAuditEventSearchPaging(t *testing.T) {
	f := newFixture(t)
	whole := f.search(t, "/fhir/AuditEvent?_count=100")
	// r3 names two patients: one event each; r7 and r8 none: one event.
	if len(whole) != 9 {
		t.Fatalf("%d events: %v", len(whole), whole)
	}
	for _, count := range []int{1, 2, 3, 4, 8} {
		got := f.search(t, "/fhir/AuditEvent?_count="+itoa(count))
		if !slices.Equal(got, whole) {
			t.Fatalf("_count=%d pages give\n%v\nwant\n%v", count, got, whole)
		}
	}
	asc := f.search(t, "/fhir/AuditEvent?_sort=date&_count=2")
	slices.Reverse(asc)
	// Events of one record keep their (patient) order either way.
	if len(asc) != 9 || asc[0] != whole[0] {
		t.Fatalf("ascending %v", asc)
	}
	tests := []struct {
		name, query string
		records     []string
	}{
		{"patient", "patient=p1", []string{"r5", "r3", "r2", "r1"}},
		{"patient reference", "patient=Patient/p2&_count=1", []string{"r4", "r3"}},
		{"date range", "date=ge2026-03-09&date=lt2026-03-11", []string{"r5", "r4"}},
		{"date day", "date=2026-03-02", []string{"r3", "r3"}},
		// Restrictions (the redaction withheld something) and 4xx answers.
		{"outcome minor failures", "outcome=4&_count=2", []string{"r8", "r7", "r6", "r5", "r4", "r3", "r3", "r2"}},
		{"outcome success", "outcome=0", []string{"r1"}},
		{"outcomes or'ed", "outcome=0,8", []string{"r1"}},
		{"nothing", "date=lt2020", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := f.search(t, "/fhir/AuditEvent?"+tc.query)
			var recs []string
			for _, id := range got {
				rec, _, _ := strings.Cut(id, "-")
				recs = append(recs, rec)
			}
			if !slices.Equal(recs, tc.records) {
				t.Fatalf("records %v, want %v (%v)", recs, tc.records, got)
			}
		})
	}
	for _, bad := range []string{"date=yesterday", "date=ne2026-01-01", "date=2026-01,2026-02", "outcome=5", "_count=0", "agent=x",
		"_sort=name", "_getpages=!!", "patient=a/b/c", "_format=xml"} {
		if code, _, b := f.do("GET", "/fhir/AuditEvent?"+bad, auditorToken, ""); code != 400 {
			t.Errorf("%s: %d %s", bad, code, b)
		}
	}
	// Read one event by its id.
	code, _, b := f.do("GET", "/fhir/AuditEvent/"+whole[0], auditorToken, "")
	if code != 200 || !bytes.Contains(b, []byte(`"id": "`+whole[0]+`"`)) {
		t.Fatalf("read: %d %s", code, b)
	}
	validR4(t, b)
	// The read is journaled with the record it returned.
	as := f.accesses()
	if last := as[len(as)-1]; last.What != "GET /fhir/AuditEvent/"+whole[0] || last.Count != 1 || last.Status != 200 {
		t.Fatalf("access %+v", last)
	}
	if code, _, _ := f.do("GET", "/fhir/AuditEvent/nope", auditorToken, ""); code != 404 {
		t.Fatalf("unknown event: %d", code)
	}
}

// TestExport: POST /api/exports streams an audit package that verifies
// offline, with the real report, and is journaled with its record count.
func TestExport(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j := storetest.Populate(t, st, []string{"a", "b"}, 30)
	w, err := journal.Open(ctx, st, journal.Options{Chain: "gw", Signer: journal.NewSigner(storetest.TestKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	creds, _ := NewCredentials(ctx, []Token{{Name: "alice", Role: RoleAuditor, SHA256: sha256.Sum256([]byte(auditorToken))}}, nil)
	h, err := New(Options{Store: st, Journal: w, Credentials: creds, Transition: (&fixture{}).transition,
		Export: &ExportOptions{Key: storetest.TestKey(), TempDir: t.TempDir(), CreatedBy: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, w: w, h: h}
	f.srv = newServer(t, h)
	code, hdr, pkg := f.do("POST", "/api/exports", auditorToken, `{"from":"2026-03-01","patient":"p3"}`)
	if code != 200 || hdr.Get("Content-Type") != "application/zip" || !strings.Contains(hdr.Get("Content-Disposition"), "ehigate-audit-") {
		t.Fatalf("export: %d %s %s", code, hdr, pkg)
	}
	res, err := export.Verify(ctx, bytes.NewReader(pkg), int64(len(pkg)), export.VerifyOptions{
		Keys: []ed25519.PublicKey{storetest.TestKey().Public().(ed25519.PublicKey)}, Transition: f.transition})
	if err != nil || !res.OK() {
		var b bytes.Buffer
		res.WriteText(&b)
		t.Fatalf("package does not verify: %v\n%s", err, b.String())
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var man export.Manifest
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		switch zf.Name {
		case export.FileReport:
			if !bytes.Contains(b, []byte("Audit package report")) || !bytes.Contains(b, []byte(`id="consistency"`)) {
				t.Errorf("report.html is not the compliance report:\n%.300s", b)
			}
		case export.FileManifest:
			json.Unmarshal(b, &man)
		}
	}
	// p3 is in every seventh record of each chain.
	want := 0
	for _, ids := range j.Records {
		for i := range ids {
			if i%7 == 3 {
				want++
			}
		}
	}
	if man.Records != want || man.Filter.Patient != "p3" {
		t.Fatalf("manifest: %d records (want %d), filter %+v", man.Records, want, man.Filter)
	}
	as := f.accesses()
	if last := as[len(as)-1]; !strings.HasPrefix(last.What, "POST /api/exports?from=2026-03-01T00%3A00%3A00Z&patient=p3&to=") || last.Count != want || last.Status != 200 {
		t.Fatalf("access %+v", last)
	}
	if code, _, _ := f.do("POST", "/api/exports", auditorToken, `{}`); code != 400 {
		t.Fatalf("no from: %d", code)
	}
}

func TestWhat(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/api/records", "GET /api/records"},
		{"/api/records?patient=p1&action=deny&action=redact", "GET /api/records?action=deny&action=redact&patient=p1"},
		{"/fhir/AuditEvent?date=ge2026-01-01&date=lt2026-02-01", "GET /fhir/AuditEvent?date=ge2026-01-01&date=lt2026-02-01"},
		{"/api/records?q=" + url.QueryEscape("a b&c"), "GET /api/records?q=a+b%26c"},
	} {
		u, _ := url.Parse(tc.in)
		r := (&httpRequest{method: "GET", url: u}).request()
		if got := What(r); got != tc.want {
			t.Errorf("What(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseDateParams(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t }
	tests := []struct {
		in       []string
		from, to string
	}{
		{[]string{"2026"}, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{[]string{"ge2026-03", "lt2026-04-15"}, "2026-03-01T00:00:00Z", "2026-04-15T00:00:00Z"},
		{[]string{"gt2026-03-01"}, "2026-03-02T00:00:00Z", ""},
		{[]string{"le2026-03-01T12:00"}, "", "2026-03-01T12:01:00Z"},
		{[]string{"eq2026-03-01T12:00:05.25+02:00"}, "2026-03-01T10:00:05.25Z", "2026-03-01T10:00:05.26Z"},
		{[]string{"sa2026-03-01T12:00:00Z", "eb2026-03-02"}, "2026-03-01T12:00:01Z", "2026-03-02T00:00:00Z"},
		{[]string{"ge2026-01-01", "ge2026-02-01", "lt2026-05-01", "lt2026-04-01"}, "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z"},
	}
	for _, tc := range tests {
		r, err := ParseDateParams(tc.in)
		if err != nil {
			t.Errorf("%v: %v", tc.in, err)
			continue
		}
		if !r.From.Equal(d(tc.from)) || !r.To.Equal(d(tc.to)) {
			t.Errorf("%v: [%s, %s), want [%s, %s)", tc.in, r.From, r.To, tc.from, tc.to)
		}
	}
	for _, bad := range []string{"", "26", "2026-13", "2026-03-01T25:00", "ap2026", "2026-03-01T12", "2026-03-01T12:00:00.1234567890Z", "ge"} {
		if _, err := ParseDateParams([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
