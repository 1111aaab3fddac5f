package demo

import (
	"net/http"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	_, hs := newTestServer(t, 2, Options{})
	base := hs.URL + "/fhir"
	// A deleted resource for the 410 cases.
	if r := do(t, http.MethodDelete, base+"/Coverage/demo-2-cov-1", nil); r.status != http.StatusOK {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	tests := []struct {
		name    string
		url     string
		header  []string
		status  int
		etag    string
		issue   string
		resType string
	}{
		{name: "read", url: "/Patient/demo-1", status: 200, etag: `W/"1"`, resType: "Patient"},
		{name: "vread", url: "/Patient/demo-1/_history/1", status: 200, etag: `W/"1"`, resType: "Patient"},
		{name: "unknown id", url: "/Patient/nobody", status: 404, issue: "not-found"},
		{name: "unknown version", url: "/Patient/demo-1/_history/9", status: 404, issue: "not-found"},
		{name: "non-numeric version", url: "/Patient/demo-1/_history/x", status: 400, issue: "invalid"},
		{name: "deleted", url: "/Coverage/demo-2-cov-1", status: 410, issue: "deleted"},
		{name: "deleted version", url: "/Coverage/demo-2-cov-1/_history/2", status: 410, issue: "deleted"},
		{name: "old version of deleted", url: "/Coverage/demo-2-cov-1/_history/1", status: 200, resType: "Coverage"},
		{name: "unknown type", url: "/Patientx/demo-1", status: 400, issue: "not-supported"},
		{name: "invalid id", url: "/Patient/bad_id!", status: 400, issue: "invalid"},
		{name: "not under base", url: "/../other", status: 404, issue: "not-found"},
		{name: "xml refused", url: "/Patient/demo-1?_format=xml", status: 406, issue: "not-supported"},
		{name: "if-none-match hit", url: "/Patient/demo-1", header: []string{"If-None-Match", `W/"1"`}, status: 304},
		{name: "if-none-match miss", url: "/Patient/demo-1", header: []string{"If-None-Match", `W/"7"`}, status: 200, resType: "Patient"},
		{name: "if-modified-since later", url: "/Patient/demo-1", header: []string{"If-Modified-Since", "Mon, 01 Jan 2035 00:00:00 GMT"}, status: 304},
		{name: "if-modified-since earlier", url: "/Patient/demo-1", header: []string{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}, status: 200, resType: "Patient"},
		{name: "unknown operation", url: "/Patient/$nonsense", status: 400, issue: "not-supported"},
		{name: "unknown path", url: "/Patient/demo-1/Observation/extra", status: 404, issue: "not-found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodGet, base+tc.url, nil, tc.header...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.etag != "" && r.header.Get("ETag") != tc.etag {
				t.Errorf("ETag %q, want %q", r.header.Get("ETag"), tc.etag)
			}
			if tc.resType != "" {
				m := r.json(t)
				if m["resourceType"] != tc.resType {
					t.Errorf("resourceType %v, want %s", m["resourceType"], tc.resType)
				}
				if r.header.Get("Last-Modified") == "" {
					t.Error("no Last-Modified")
				}
				if cl := r.header.Get("Content-Location"); !strings.HasPrefix(cl, base+"/") || !strings.Contains(cl, "/_history/") {
					t.Errorf("Content-Location %q is not an absolute versioned URL", cl)
				}
			}
			if tc.issue != "" {
				m := r.json(t)
				if m["resourceType"] != "OperationOutcome" {
					t.Fatalf("not an OperationOutcome: %s", r.body)
				}
				if code := m["issue"].([]any)[0].(map[string]any)["code"]; code != tc.issue {
					t.Errorf("issue code %v, want %s", code, tc.issue)
				}
			}
		})
	}
}

func TestCreate(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{})
	base := hs.URL + "/fhir"
	obs := `{"resourceType":"Observation","id":"ignored","status":"final","code":{"text":"x"},"identifier":[{"system":"urn:test","value":"%s"}],"subject":{"reference":"Patient/demo-1"}}`
	body := func(v string) []byte { return []byte(strings.Replace(obs, "%s", v, 1)) }
	tests := []struct {
		name     string
		url      string
		body     []byte
		header   []string
		status   int
		wantBody bool
		sameAs   string // Location expected to equal that of the named earlier case
	}{
		{name: "create", url: "/Observation", body: body("a"), status: 201, wantBody: true},
		{name: "minimal", url: "/Observation", body: body("b"), header: []string{"Prefer", "return=minimal"}, status: 201},
		{name: "outcome", url: "/Observation", body: body("c"), header: []string{"Prefer", "return=OperationOutcome"}, status: 201, wantBody: true},
		{name: "conditional new", url: "/Observation", body: body("d"), header: []string{"If-None-Exist", "identifier=urn:test|d"}, status: 201, wantBody: true},
		{name: "conditional existing", url: "/Observation", body: body("d"), header: []string{"If-None-Exist", "identifier=urn:test|d"}, status: 200, wantBody: true, sameAs: "conditional new"},
		{name: "conditional with type prefix", url: "/Observation", body: body("d"), header: []string{"If-None-Exist", "Observation?identifier=urn:test|d"}, status: 200, wantBody: true, sameAs: "conditional new"},
		{name: "conditional multiple", url: "/Observation", body: body("e"), header: []string{"If-None-Exist", "subject=Patient/demo-1"}, status: 412},
		{name: "conditional unknown param", url: "/Observation", body: body("e"), header: []string{"If-None-Exist", "nonsense=1"}, status: 400},
		{name: "type mismatch", url: "/Condition", body: body("f"), status: 400},
		{name: "not JSON", url: "/Observation", body: []byte(`{"resourceType":`), status: 400},
		{name: "no resourceType", url: "/Observation", body: []byte(`{"id":"x"}`), status: 400},
		{name: "xml", url: "/Observation", body: body("g"), header: []string{"Content-Type", "application/fhir+xml"}, status: 415},
	}
	locations := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodPost, base+tc.url, tc.body, tc.header...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status >= 300 {
				if r.json(t)["resourceType"] != "OperationOutcome" {
					t.Errorf("error body is not an OperationOutcome: %s", r.body)
				}
				return
			}
			loc := r.header.Get("Location")
			if !strings.HasPrefix(loc, base+"/Observation/") || !strings.HasSuffix(loc, "/_history/1") {
				t.Errorf("Location %q is not an absolute versioned URL", loc)
			}
			if r.header.Get("ETag") != `W/"1"` {
				t.Errorf("ETag %q", r.header.Get("ETag"))
			}
			locations[tc.name] = loc
			if tc.sameAs != "" && loc != locations[tc.sameAs] {
				t.Errorf("Location %q, want the existing %q", loc, locations[tc.sameAs])
			}
			if (len(r.body) > 0) != tc.wantBody {
				t.Fatalf("body %q, want body: %v", r.body, tc.wantBody)
			}
			if tc.wantBody && tc.header == nil {
				m := r.json(t)
				if m["id"] == "ignored" || m["id"] == "" {
					t.Errorf("server kept the client id: %v", m["id"])
				}
				meta := m["meta"].(map[string]any)
				if meta["versionId"] != "1" || meta["lastUpdated"] == nil {
					t.Errorf("meta %v", meta)
				}
				if !strings.HasSuffix(loc, "/"+m["id"].(string)+"/_history/1") {
					t.Errorf("Location %q does not name id %v", loc, m["id"])
				}
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{})
	base := hs.URL + "/fhir"
	pat := func(id, family string) []byte {
		return []byte(`{"resourceType":"Patient","id":"` + id + `","identifier":[{"system":"urn:mrn","value":"` + id + `"}],"name":[{"family":"` + family + `"}]}`)
	}
	tests := []struct {
		name    string
		method  string
		url     string
		body    []byte
		header  []string
		status  int
		version string
	}{
		{name: "update existing", method: "PUT", url: "/Patient/demo-1", body: pat("demo-1", "Changed"), status: 200, version: "2"},
		{name: "if-match current", method: "PUT", url: "/Patient/demo-1", body: pat("demo-1", "Again"), header: []string{"If-Match", `W/"2"`}, status: 200, version: "3"},
		{name: "if-match stale", method: "PUT", url: "/Patient/demo-1", body: pat("demo-1", "Stale"), header: []string{"If-Match", `W/"1"`}, status: 412},
		{name: "create on update", method: "PUT", url: "/Patient/new-1", body: pat("new-1", "New"), status: 201, version: "1"},
		{name: "if-match on absent", method: "PUT", url: "/Patient/new-2", body: pat("new-2", "New"), header: []string{"If-Match", `W/"1"`}, status: 412},
		{name: "id mismatch", method: "PUT", url: "/Patient/demo-1", body: pat("other", "X"), status: 400},
		{name: "no id", method: "PUT", url: "/Patient/demo-1", body: []byte(`{"resourceType":"Patient"}`), status: 400},
		{name: "conditional one match", method: "PUT", url: "/Patient?identifier=urn:mrn|new-1", body: []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"new-1"}],"active":true}`), status: 200, version: "2"},
		{name: "conditional no match", method: "PUT", url: "/Patient?identifier=urn:mrn|new-3", body: pat("new-3", "Three"), status: 201, version: "1"},
		{name: "conditional many", method: "PUT", url: "/Patient?identifier=urn:mrn|demo-1,urn:mrn|new-1", body: pat("x", "X"), status: 412},
		{name: "conditional wrong id", method: "PUT", url: "/Patient?identifier=urn:mrn|new-1", body: pat("demo-1", "X"), status: 400},
		{name: "method not allowed", method: "POST", url: "/Patient/demo-1", body: pat("demo-1", "X"), status: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, base+tc.url, tc.body, tc.header...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if tc.version == "" {
				return
			}
			if r.header.Get("ETag") != `W/"`+tc.version+`"` {
				t.Errorf("ETag %q, want version %s", r.header.Get("ETag"), tc.version)
			}
			if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/_history/"+tc.version) || !strings.HasPrefix(loc, base) {
				t.Errorf("Location %q", loc)
			}
			if v := r.json(t)["meta"].(map[string]any)["versionId"]; v != tc.version {
				t.Errorf("versionId %v", v)
			}
		})
	}
	if r := do(t, http.MethodGet, base+"/Patient/demo-1/_history/2", nil); r.json(t)["name"].([]any)[0].(map[string]any)["family"] != "Changed" {
		t.Errorf("version 2 is not the first update: %s", r.body)
	}
}

func TestPatch(t *testing.T) {
	_, hs := newTestServer(t, 2, Options{})
	base := hs.URL + "/fhir"
	ct := []string{"Content-Type", jsonPatch}
	tests := []struct {
		name   string
		url    string
		body   string
		header []string
		status int
		check  func(t *testing.T, m map[string]any)
	}{
		{name: "replace and add", url: "/Patient/demo-1", body: `[{"op":"test","path":"/gender","value":"female"},{"op":"replace","path":"/active","value":false},{"op":"add","path":"/name/-","value":{"family":"Added"}}]`, status: 200,
			check: func(t *testing.T, m map[string]any) {
				if m["active"] != false || len(m["name"].([]any)) != 2 || m["meta"].(map[string]any)["versionId"] != "2" {
					t.Errorf("patch not applied: %v", m)
				}
			}},
		{name: "remove", url: "/Patient/demo-1", body: `[{"op":"remove","path":"/telecom"}]`, status: 200,
			check: func(t *testing.T, m map[string]any) {
				if _, ok := m["telecom"]; ok {
					t.Error("telecom still there")
				}
			}},
		{name: "move and copy", url: "/Patient/demo-1", body: `[{"op":"copy","from":"/name/0","path":"/name/1"},{"op":"move","from":"/birthDate","path":"/deceasedDateTime"}]`, status: 200,
			check: func(t *testing.T, m map[string]any) {
				if _, ok := m["birthDate"]; ok || m["deceasedDateTime"] == nil {
					t.Errorf("move not applied: %v", m)
				}
			}},
		{name: "if-match stale", url: "/Patient/demo-1", body: `[]`, header: []string{"If-Match", `W/"1"`}, status: 412},
		{name: "test fails", url: "/Patient/demo-1", body: `[{"op":"test","path":"/gender","value":"male"}]`, status: 422},
		{name: "changes id", url: "/Patient/demo-1", body: `[{"op":"replace","path":"/id","value":"other"}]`, status: 422},
		{name: "bad path", url: "/Patient/demo-1", body: `[{"op":"replace","path":"/nothing/here","value":1}]`, status: 400},
		{name: "unknown op", url: "/Patient/demo-1", body: `[{"op":"frob","path":"/a"}]`, status: 400},
		{name: "not a patch", url: "/Patient/demo-1", body: `{"op":"add"}`, status: 400},
		{name: "fhirpath patch", url: "/Patient/demo-1", body: `{"resourceType":"Parameters"}`, header: []string{"Content-Type", "application/fhir+json"}, status: 415},
		{name: "absent", url: "/Patient/nobody", body: `[]`, status: 404},
		{name: "conditional", url: "/Patient?identifier=" + sysMRN + "|MRN-100002", body: `[{"op":"add","path":"/active","value":false}]`, status: 200,
			check: func(t *testing.T, m map[string]any) {
				if m["id"] != "demo-2" || m["active"] != false {
					t.Errorf("conditional patch hit %v", m["id"])
				}
			}},
		{name: "conditional unsupported param", url: "/Patient?active=true", body: `[]`, status: 400},
		{name: "conditional many", url: "/Patient?gender=female,male", body: `[]`, status: 412},
		{name: "conditional none", url: "/Patient?identifier=nothing", body: `[]`, status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := ct
			if tc.header != nil && tc.header[0] == "Content-Type" {
				h = tc.header
			} else {
				h = append(append([]string{}, ct...), tc.header...)
			}
			r := do(t, http.MethodPatch, base+tc.url, []byte(tc.body), h...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.check != nil {
				tc.check(t, r.json(t))
			}
		})
	}
}

func TestDelete(t *testing.T) {
	_, hs := newTestServer(t, 2, Options{})
	base := hs.URL + "/fhir"
	tests := []struct {
		name   string
		url    string
		header []string
		status int
		after  string // a URL that must then answer 410
	}{
		{name: "delete", url: "/AllergyIntolerance/demo-1-alg-1", status: 200, after: "/AllergyIntolerance/demo-1-alg-1"},
		{name: "delete again", url: "/AllergyIntolerance/demo-1-alg-1", status: 200},
		{name: "if-match stale", url: "/Immunization/demo-1-imm-1", header: []string{"If-Match", `W/"3"`}, status: 412},
		{name: "if-match current", url: "/Immunization/demo-1-imm-1", header: []string{"If-Match", `W/"1"`}, status: 200, after: "/Immunization/demo-1-imm-1"},
		{name: "unknown", url: "/Immunization/nothing", status: 404},
		{name: "conditional one", url: "/Coverage?beneficiary=Patient/demo-2", status: 200, after: "/Coverage/demo-2-cov-1"},
		{name: "conditional none", url: "/Coverage?beneficiary=Patient/demo-2", status: 200},
		{name: "conditional many", url: "/Observation?subject=Patient/demo-1", status: 412},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodDelete, base+tc.url, nil, tc.header...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.after != "" {
				if r := do(t, http.MethodGet, base+tc.after, nil); r.status != http.StatusGone {
					t.Errorf("after delete: %d", r.status)
				}
			}
		})
	}
}
