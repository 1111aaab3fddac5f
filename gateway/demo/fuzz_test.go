package demo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// seedFiles adds shared R4 example files matching pattern as seeds, when
// the shared data is present.
func seedFiles(f *testing.F, dir, pattern string, limit int) {
	data := sharedDataDir()
	if data == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(data, dir, pattern))
	for i, file := range files {
		if i == limit {
			break
		}
		if b, err := os.ReadFile(file); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
}

func FuzzLoadTransaction(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"POST","url":"Patient"}},{"resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:1"}}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Encounter","subject":{"reference":"Patient?identifier=x"}}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[]}`))
	seedFiles(f, "r4-examples", "Bundle-*.json", 40)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewServer(Options{})
		n, err := s.LoadTransaction(bytes.NewReader(data))
		if err != nil {
			return
		}
		s.st.mu.RLock()
		defer s.st.mu.RUnlock()
		count := 0
		for _, v := range s.st.history {
			count++
			if !json.Valid(v.raw) {
				t.Fatalf("stored invalid JSON: %s", v.raw)
			}
			typ, id, err := head(v.raw)
			if err != nil || typ != v.typ || id != v.id {
				t.Fatalf("stored %s/%s as %s/%s (%v)", v.typ, v.id, typ, id, err)
			}
		}
		if count != n {
			t.Fatalf("loaded %d, stored %d", n, count)
		}
	})
}

func FuzzPatch(f *testing.F) {
	res := []byte(`{"resourceType":"Patient","id":"p","name":[{"family":"A","given":["B"]}],"active":true}`)
	for _, p := range []string{
		`[{"op":"replace","path":"/active","value":false}]`,
		`[{"op":"add","path":"/name/0/given/-","value":"C"},{"op":"remove","path":"/name/0/family"}]`,
		`[{"op":"move","from":"/name/0","path":"/name/1"},{"op":"copy","from":"/active","path":"/x~1y"}]`,
		`[{"op":"test","path":"/name/0/given/0","value":"B"}]`,
		`[{"op":"add","path":"","value":{"resourceType":"Patient","id":"p"}}]`,
	} {
		f.Add(res, []byte(p))
	}
	f.Fuzz(func(t *testing.T, resource, patch []byte) {
		if !json.Valid(resource) {
			return
		}
		out, err := applyPatch(resource, patch)
		if err != nil {
			if _, _, msg := statusOf(err); msg == "" {
				t.Fatal("error without a message")
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("patched output is not JSON: %s", out)
		}
	})
}

func FuzzCompactRefs(f *testing.F) {
	f.Add([]byte(`{"a": [1, 2.5e3, "x\"y", {"reference" : "Patient/1"}], "reference": 5, "b": {"reference": "urn:uuid:1"}}`))
	f.Add([]byte(` "reference" `))
	f.Add([]byte(`{"reference":"\u0050atient/1","x":"\u2028"}`))
	seedFiles(f, "r4-examples", "*.json", 60)
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, data); err != nil {
			t.Fatal(err)
		}
		got, err := compactRefs(nil, data, nil, nil)
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("compactRefs = %s, %v; json.Compact = %s", got, err, want.Bytes())
		}
		var refs []string
		rewritten, err := compactRefs(nil, data, func(string) (string, bool) { return "Patient/x", true }, func(r string) { refs = append(refs, r) })
		if err != nil || !json.Valid(rewritten) {
			t.Fatalf("rewritten output is not JSON: %s (%v)", rewritten, err)
		}
		for _, r := range refs {
			if r != "Patient/x" {
				t.Fatalf("seen %q, want the rewritten reference", r)
			}
		}
		if len(data) > 0 && bytes.TrimSpace(data)[0] == '{' {
			if _, err := splitObject(got); err != nil {
				t.Fatalf("splitObject(%s): %v", got, err)
			}
		}
	})
}

// fuzzServer is shared by the iterations of FuzzServeHTTP.
var fuzzServer = sync.OnceValue(func() *Server {
	s := NewServer(Options{BasePath: "/fhir", ExportPolls: -1})
	for _, r := range Generate(2, 1, testNow) {
		if err := s.Put(r); err != nil {
			panic(err)
		}
	}
	return s
})

// FuzzServeHTTP sends arbitrary requests: the server must never fail with
// a 5xx, and every body must be what its Content-Type says.
func FuzzServeHTTP(f *testing.F) {
	seeds := []struct{ method, target, ctype, body string }{
		{"GET", "/fhir/Observation?patient=demo-1&category=laboratory&_include=Observation:patient&_count=3", "", ""},
		{"GET", "/fhir?_getpages=T2JzZXJ2YXRpb24_&_getpagesoffset=2&_count=2", "", ""},
		{"GET", "/fhir/Patient/demo-1/*?_lastUpdated=ge2020-01-01&_security=N", "", ""},
		{"GET", "/fhir/Patient/demo-2/$everything?_type=Condition&_since=2020", "", ""},
		{"GET", "/fhir/_history?_count=1", "", ""},
		{"POST", "/fhir/Observation/_search", "application/x-www-form-urlencoded", "subject=Patient/demo-1&code=http://loinc.org|8867-4"},
		{"POST", "/fhir", "application/fhir+json", `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`},
		{"POST", "/fhir", "application/fhir+json", `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/demo-1"}}]}`},
		{"PATCH", "/fhir/Patient/demo-1", "application/json-patch+json", `[{"op":"replace","path":"/active","value":false}]`},
		{"PUT", "/fhir/Patient?identifier=x", "application/fhir+json", `{"resourceType":"Patient"}`},
		{"DELETE", "/fhir/Observation?code=8867-4&patient=demo-2", "", ""},
		{"POST", "/fhir/Patient/$validate", "application/fhir+json", `{"resourceType":"Patient","name":[]}`},
		{"GET", "/fhir/$export?_type=Patient", "", ""},
		{"GET", "/fhir/Observation/demo-1-obs-1/$meta", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, target, ctype string, body []byte) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") || strings.ContainsAny(method, " \r\n\t/()<>@,;:\\\"[]?={}") || method == "" || method == "CONNECT" {
			return
		}
		req, err := http.NewRequest(method, "http://demo.test"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("Prefer", "respond-async")
		rec := httptest.NewRecorder()
		fuzzServer().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body.Bytes())
		}
		if rec.Body.Len() > 0 {
			checkBody(t, method+" "+target, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		}
	})
}
