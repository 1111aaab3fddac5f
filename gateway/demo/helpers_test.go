package demo

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"github.com/ehigate/ehigate/fhir/fhirdata"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is the fixed "now" of the generated data.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// stepClock returns a clock that starts at testNow and advances one second
// per call, so that every write gets its own lastUpdated.
func stepClock() func() time.Time {
	var mu sync.Mutex
	t := testNow
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// newTestServer starts a server under /fhir loaded with n generated
// patients.
func newTestServer(t testing.TB, n int, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.BasePath == "" {
		opts.BasePath = "/fhir"
	}
	if opts.Clock == nil {
		opts.Clock = stepClock()
	}
	s := NewServer(opts)
	for _, r := range Generate(n, 1, testNow) {
		if err := s.Put(r); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// resp is a response read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body.
func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %.200s", err, r.body)
	}
	return m
}

// do sends a request and checks that what comes back is valid: JSON bodies
// parse and follow the FHIR JSON rules, NDJSON lines parse one by one.
func do(t testing.TB, method, url string, body []byte, header ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	out := resp{status: res.StatusCode, header: res.Header, body: b}
	checkBody(t, method+" "+url, res.Header.Get("Content-Type"), b)
	return out
}

// checkBody fails the test when a body is not what its content type says.
func checkBody(t testing.TB, what, contentType string, b []byte) {
	t.Helper()
	if len(b) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/fhir+json":
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: invalid JSON: %v: %.300s", what, err, b)
		}
		if p := jsonRules(v, "body"); len(p) > 0 {
			t.Fatalf("%s: breaks FHIR JSON rules: %v", what, p)
		}
	case "application/json":
		if !json.Valid(b) {
			t.Fatalf("%s: invalid JSON: %.300s", what, b)
		}
	case "application/fhir+ndjson":
		for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			if !json.Valid(line) {
				t.Fatalf("%s: NDJSON line %d is not JSON: %.200s", what, i, line)
			}
		}
	default:
		t.Fatalf("%s: unexpected Content-Type %q", what, contentType)
	}
}

// entries returns the entries of a Bundle.
func entries(t testing.TB, bundle map[string]any) []map[string]any {
	t.Helper()
	raw, _ := bundle["entry"].([]any)
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		out[i] = e.(map[string]any)
	}
	return out
}

// resourceOf returns entry.resource.
func resourceOf(e map[string]any) map[string]any {
	r, _ := e["resource"].(map[string]any)
	return r
}

// linkURL returns the Bundle link with relation rel, or "".
func linkURL(bundle map[string]any, rel string) string {
	links, _ := bundle["link"].([]any)
	for _, l := range links {
		m := l.(map[string]any)
		if m["relation"] == rel {
			s, _ := m["url"].(string)
			return s
		}
	}
	return ""
}

// walkPages follows next links from url to the end and returns every
// entry; it checks that every link is absolute and on the server.
func walkPages(t testing.TB, hs *httptest.Server, url string, header ...string) (entries []map[string]any, total float64, pages int) {
	t.Helper()
	for url != "" {
		if !strings.HasPrefix(url, hs.URL+"/fhir") {
			t.Fatalf("link %q is not an absolute URL of the server", url)
		}
		r := do(t, http.MethodGet, url, nil, header...)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, r.status, r.body)
		}
		b := r.json(t)
		if b["resourceType"] != "Bundle" {
			t.Fatalf("not a Bundle: %s", r.body)
		}
		total, _ = b["total"].(float64)
		raw, _ := b["entry"].([]any)
		for _, e := range raw {
			entries = append(entries, e.(map[string]any))
		}
		pages++
		url = linkURL(b, "next")
	}
	return entries, total, pages
}

// sharedDataDir returns the shared FHIR test data folder, or "" when it
// is absent.
func sharedDataDir() string {
	d, _ := fhirdata.Lookup()
	return d
}

// sharedData returns the shared FHIR test data directory or skips.
func sharedData(t testing.TB) string {
	t.Helper()
	d := sharedDataDir()
	if d == "" {
		t.Skip("shared FHIR test data (../shared/fhir-data beside the repository) not found")
	}
	return d
}

// ids returns Type/id of each entry's resource.
func ids(es []map[string]any) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		if r := resourceOf(e); r != nil {
			out = append(out, r["resourceType"].(string)+"/"+r["id"].(string))
		}
	}
	return out
}
