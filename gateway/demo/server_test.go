package demo

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n got %.400s\nwant %.400s", name, got, want)
	}
}

func TestCapabilities(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{})
	base := hs.URL + "/fhir"
	r := do(t, http.MethodGet, base+"/metadata", nil)
	if r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	var cs struct {
		ResourceType   string
		FhirVersion    string
		Instantiates   []string
		Implementation struct{ URL string }
		Rest           []struct {
			Resource []struct {
				Type        string
				Interaction []struct{ Code string }
				SearchParam []struct{ Name string }
				Operation   []struct{ Name string }
			}
			Interaction []struct{ Code string }
		}
	}
	if err := json.Unmarshal(r.body, &cs); err != nil {
		t.Fatal(err)
	}
	if cs.ResourceType != "CapabilityStatement" || cs.FhirVersion != "4.0.1" || cs.Implementation.URL != base ||
		len(cs.Instantiates) != 1 || !strings.Contains(cs.Instantiates[0], "bulkdata") {
		t.Errorf("statement head: %+v", cs)
	}
	if len(cs.Rest) != 1 || len(cs.Rest[0].Interaction) != 4 || len(cs.Rest[0].Resource) != 146 {
		t.Fatalf("rest: %d resources", len(cs.Rest[0].Resource))
	}
	for _, res := range cs.Rest[0].Resource {
		if res.Type != "Patient" {
			continue
		}
		var params, ops []string
		for _, p := range res.SearchParam {
			params = append(params, p.Name)
		}
		for _, o := range res.Operation {
			ops = append(ops, o.Name)
		}
		if len(res.Interaction) != 9 || !strings.Contains(strings.Join(params, ","), "identifier") ||
			strings.Join(ops, ",") != "everything,export,validate,meta" {
			t.Errorf("Patient: %d interactions, params %v, operations %v", len(res.Interaction), params, ops)
		}
	}
	if r := do(t, http.MethodPost, base+"/metadata", nil); r.status != 405 || r.header.Get("Allow") != "GET" {
		t.Errorf("POST metadata: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestGzip(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{})
	base := hs.URL + "/fhir"
	tests := []struct {
		name     string
		method   string
		url      string
		encoding string
		gzipped  bool
	}{
		{name: "search gzip", url: "/Observation?_count=50", encoding: "gzip", gzipped: true},
		{name: "read gzip with q", url: "/Patient/demo-1", encoding: "br;q=1.0, gzip;q=0.8", gzipped: true},
		{name: "gzip refused", url: "/Patient/demo-1", encoding: "gzip;q=0"},
		{name: "plain", url: "/Patient/demo-1"},
		{name: "error gzip", url: "/Patient/nobody", encoding: "gzip", gzipped: true},
		{name: "not modified stays bodiless", url: "/Patient/demo-1", encoding: "gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+tc.url, nil)
			if tc.encoding != "" {
				req.Header.Set("Accept-Encoding", tc.encoding)
			}
			if strings.HasPrefix(tc.name, "not modified") {
				req.Header.Set("If-None-Match", `W/"1"`)
			}
			res, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
				t.Error("no Vary: Accept-Encoding")
			}
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.gzipped {
				t.Fatalf("Content-Encoding %q, want gzip %v", res.Header.Get("Content-Encoding"), tc.gzipped)
			}
			body := raw
			if tc.gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if res.StatusCode == http.StatusNotModified {
				if len(raw) != 0 {
					t.Errorf("304 with a body")
				}
				return
			}
			checkBody(t, tc.url, res.Header.Get("Content-Type"), body)
			if len(body) == 0 {
				t.Error("empty body")
			}
		})
	}
	t.Run("bulk file gzip", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/$export?_type=Observation", nil, "Prefer", "respond-async")
		status := r.header.Get("Content-Location")
		var m map[string]any
		for {
			p := do(t, http.MethodGet, status, nil)
			if p.status == 200 {
				m = p.json(t)
				break
			}
		}
		u := m["output"].([]any)[0].(map[string]any)["url"].(string)
		f := do(t, http.MethodGet, u, nil, "Accept-Encoding", "gzip")
		if f.header.Get("Content-Encoding") != "gzip" || len(f.body) == 0 {
			t.Errorf("NDJSON not gzipped: %v", f.header)
		}
	})
}

func TestValidateAndMeta(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{})
	base := hs.URL + "/fhir"
	tests := []struct {
		name   string
		method string
		url    string
		body   string
		status int
		check  func(t *testing.T, m map[string]any)
	}{
		{name: "validate ok", method: "POST", url: "/Patient/$validate", body: `{"resourceType":"Patient","active":true}`, status: 200},
		{name: "validate in Parameters", method: "POST", url: "/Patient/$validate", body: `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient","active":true}}]}`, status: 200},
		{name: "validate wrong type", method: "POST", url: "/Patient/$validate", body: `{"resourceType":"Observation","status":"final"}`, status: 422},
		{name: "validate json rules", method: "POST", url: "/Patient/$validate", body: `{"resourceType":"Patient","name":[],"gender":null,"birthDate":""}`, status: 422,
			check: func(t *testing.T, m map[string]any) {
				if n := len(m["issue"].([]any)); n != 3 {
					t.Errorf("%d issues, want 3", n)
				}
			}},
		{name: "validate instance id", method: "POST", url: "/Patient/demo-1/$validate", body: `{"resourceType":"Patient","id":"other"}`, status: 422},
		{name: "validate GET", method: "GET", url: "/Patient/$validate", status: 405},
		{name: "validate not JSON", method: "POST", url: "/Patient/$validate", body: `nope`, status: 400},
		{name: "meta instance", method: "GET", url: "/Condition/demo-1-cond-3/$meta", status: 200,
			check: func(t *testing.T, m map[string]any) {
				meta := m["parameter"].([]any)[0].(map[string]any)["valueMeta"].(map[string]any)
				if meta["versionId"] != "1" || len(meta["security"].([]any)) != 4 {
					t.Errorf("valueMeta %v", meta)
				}
			}},
		{name: "meta type", method: "GET", url: "/DocumentReference/$meta", status: 200,
			check: func(t *testing.T, m map[string]any) {
				meta := m["parameter"].([]any)[0].(map[string]any)["valueMeta"].(map[string]any)
				if sec := meta["security"].([]any); len(sec) != 1 || sec[0].(map[string]any)["code"] != "PSY" {
					t.Errorf("valueMeta %v", meta)
				}
			}},
		{name: "meta system", method: "POST", url: "/$meta", status: 200,
			check: func(t *testing.T, m map[string]any) {
				meta := m["parameter"].([]any)[0].(map[string]any)["valueMeta"].(map[string]any)
				if len(meta["security"].([]any)) != 7 || len(meta["profile"].([]any)) != 1 {
					t.Errorf("valueMeta %v", meta)
				}
			}},
		{name: "meta none", method: "GET", url: "/Goal/$meta", status: 200},
		{name: "meta unknown", method: "GET", url: "/Patient/nobody/$meta", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := do(t, tc.method, base+tc.url, body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.check != nil {
				tc.check(t, r.json(t))
			}
		})
	}
}

func TestPutAndLoadErrors(t *testing.T) {
	s := NewServer(Options{})
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "put not JSON", err: s.Put([]byte(`{`)), want: ErrInvalid},
		{name: "put no id", err: s.Put([]byte(`{"resourceType":"Patient"}`)), want: ErrInvalid},
		{name: "put unknown type", err: s.Put([]byte(`{"resourceType":"Nope","id":"1"}`)), want: ErrInvalid},
		{name: "put bad meta", err: s.Put([]byte(`{"resourceType":"Patient","id":"1","meta":[]}`)), want: ErrInvalid},
		{name: "load not a Bundle", err: loadErr(s, `{"resourceType":"Patient"}`), want: ErrNotBundle},
		{name: "load not JSON", err: loadErr(s, `[1,2]`), want: ErrNotBundle},
		{name: "load trailing data", err: loadErr(s, `{"resourceType":"Bundle"} {}`), want: ErrNotBundle},
		{name: "load bad entry", err: loadErr(s, `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Nope"}}]}`), want: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("error %v, want %v", tc.err, tc.want)
			}
		})
	}
	if n, err := s.LoadTransaction(strings.NewReader(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:0b1c6f0e-0000-4000-8000-00000000000a","resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:0b1c6f0e-0000-4000-8000-00000000000a"}}}]}`)); err != nil || n != 2 {
		t.Fatalf("load: %d %v", n, err)
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	if got := s.st.byPatient["0b1c6f0e-0000-4000-8000-00000000000a"]; len(got) != 2 {
		t.Errorf("a Patient without id takes the uuid of its fullUrl: compartment holds %d", len(got))
	}
}

func loadErr(s *Server, b string) error {
	_, err := s.LoadTransaction(strings.NewReader(b))
	return err
}

func TestGoldenRead(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{})
	for _, name := range []string{"Patient/demo-1", "DocumentReference/demo-1-doc-2", "Condition/demo-1-cond-3"} {
		r := do(t, http.MethodGet, hs.URL+"/fhir/"+name, nil)
		golden(t, "read-"+strings.ReplaceAll(name, "/", "-")+".json", r.body)
	}
}

func TestConcurrent(t *testing.T) {
	_, hs := newTestServer(t, 2, Options{})
	base := hs.URL + "/fhir"
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				body := []byte(`{"resourceType":"Observation","status":"final","code":{"text":"c"},"subject":{"reference":"Patient/demo-1"},"identifier":[{"system":"urn:c","value":"` + string(rune('a'+w)) + string(rune('a'+i)) + `"}]}`)
				if r := do(t, http.MethodPost, base+"/Observation", body); r.status != 201 {
					t.Errorf("create: %d", r.status)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				if r := do(t, http.MethodGet, base+"/Observation?patient=demo-1&_count=5", nil); r.status != 200 {
					t.Errorf("search: %d", r.status)
				}
			}
		}()
	}
	wg.Wait()
	b := do(t, http.MethodGet, base+"/Observation?identifier=urn:c|&_summary=count", nil).json(t)
	if b["total"] != float64(writers*each) {
		t.Errorf("total %v, want %d", b["total"], writers*each)
	}
}
