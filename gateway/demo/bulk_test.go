package demo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// export kicks off an export and polls it to the manifest, checking the
// in-progress answers on the way.
func export(t *testing.T, base, kickoff string, polls int, method string, body []byte) map[string]any {
	t.Helper()
	r := do(t, method, kickoff, body, "Prefer", "respond-async", "Accept", "application/fhir+json")
	if r.status != http.StatusAccepted {
		t.Fatalf("kick-off: %d %s", r.status, r.body)
	}
	status := r.header.Get("Content-Location")
	if !strings.HasPrefix(status, base+"/bulkstatus/") {
		t.Fatalf("Content-Location %q is not an absolute status URL under the base", status)
	}
	for i := 0; ; i++ {
		p := do(t, http.MethodGet, status, nil)
		if p.status == http.StatusAccepted {
			if i >= polls {
				t.Fatalf("still in progress after %d polls", i+1)
			}
			if p.header.Get("X-Progress") == "" || p.header.Get("Retry-After") == "" {
				t.Errorf("202 without X-Progress or Retry-After: %v", p.header)
			}
			continue
		}
		if p.status != http.StatusOK {
			t.Fatalf("poll: %d %s", p.status, p.body)
		}
		if i != polls {
			t.Errorf("complete after %d polls, want %d", i, polls)
		}
		if ct := p.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("manifest Content-Type %q", ct)
		}
		m := p.json(t)
		if m["requiresAccessToken"] != true || m["transactionTime"] == nil || !strings.HasPrefix(m["request"].(string), kickoff[:len(base)]) {
			t.Errorf("manifest %s", p.body)
		}
		return m
	}
}

// outputs downloads every output file of a manifest and returns the
// resources by type.
func outputs(t *testing.T, base string, m map[string]any) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, o := range m["output"].([]any) {
		o := o.(map[string]any)
		u := o["url"].(string)
		if !strings.HasPrefix(u, base+"/bulkfiles/") {
			t.Fatalf("output url %q", u)
		}
		r := do(t, http.MethodGet, u, nil, "Accept", "application/fhir+ndjson")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/fhir+ndjson") {
			t.Fatalf("file %s: %d %s", u, r.status, r.header.Get("Content-Type"))
		}
		lines := bytes.Split(bytes.TrimSuffix(r.body, []byte("\n")), []byte("\n"))
		for _, l := range lines {
			var res map[string]any
			if err := json.Unmarshal(l, &res); err != nil {
				t.Fatal(err)
			}
			if res["resourceType"] != o["type"] {
				t.Errorf("%s holds a %v", u, res["resourceType"])
			}
			out[o["type"].(string)] = append(out[o["type"].(string)], res)
		}
		if float64(len(lines)) != o["count"].(float64) {
			t.Errorf("%s: %d lines, count %v", u, len(lines), o["count"])
		}
	}
	return out
}

func TestBulkExport(t *testing.T) {
	const polls = 2
	s, hs := newTestServer(t, 3, Options{ExportPolls: polls})
	base := hs.URL + "/fhir"
	all := generated(t, 3)
	if r := do(t, http.MethodPut, base+"/Group/g1", []byte(`{"resourceType":"Group","id":"g1","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/demo-2"}}]}`)); r.status != 201 {
		t.Fatalf("group: %d %s", r.status, r.body)
	}
	later := s.now()
	if r := do(t, http.MethodPut, base+"/Patient/demo-3", []byte(`{"resourceType":"Patient","id":"demo-3","active":false}`)); r.status != 200 {
		t.Fatalf("update: %d", r.status)
	}
	count := func(res map[string][]map[string]any) int {
		n := 0
		for _, v := range res {
			n += len(v)
		}
		return n
	}
	// compartment counts the generated resources in p's compartment (the
	// Patient and what refers to it as subject, patient or beneficiary).
	compartment := func(p string) int {
		return len(expect(all, "", func(r genResource) bool {
			return r.key() == "Patient/"+p || r.refTo("subject", "Patient/"+p) || r.refTo("patient", "Patient/"+p) || r.refTo("beneficiary", "Patient/"+p)
		}))
	}
	tests := []struct {
		name   string
		url    string
		method string
		body   string
		check  func(t *testing.T, res map[string][]map[string]any)
	}{
		{name: "system", url: "/$export", check: func(t *testing.T, res map[string][]map[string]any) {
			if count(res) != len(all)+1 {
				t.Errorf("%d resources, want %d", count(res), len(all)+1)
			}
		}},
		{name: "system _type", url: "/$export?_type=Patient,Coverage", check: func(t *testing.T, res map[string][]map[string]any) {
			if len(res) != 2 || len(res["Patient"]) != 3 || len(res["Coverage"]) != 3 {
				t.Errorf("types %v", keys(res))
			}
		}},
		{name: "system _since", url: "/$export?_since=" + later.Format(instantLayout), check: func(t *testing.T, res map[string][]map[string]any) {
			if count(res) != 1 || res["Patient"][0]["id"] != "demo-3" {
				t.Errorf("got %v", res)
			}
		}},
		{name: "patient", url: "/Patient/$export", check: func(t *testing.T, res map[string][]map[string]any) {
			want := compartment("demo-1") + compartment("demo-2") + compartment("demo-3") + 1 // Group g1 is in demo-2's
			if count(res) != want || res["Practitioner"] != nil || len(res["Group"]) != 1 {
				t.Errorf("%d resources (%v), want %d", count(res), keys(res), want)
			}
		}},
		{name: "patient POST", url: "/Patient/$export", method: "POST",
			body: `{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Condition"},{"name":"patient","valueReference":{"reference":"Patient/demo-1"}}]}`,
			check: func(t *testing.T, res map[string][]map[string]any) {
				want := len(expect(all, "Condition", func(r genResource) bool { return r.refTo("subject", "Patient/demo-1") }))
				if len(res) != 1 || len(res["Condition"]) != want {
					t.Errorf("got %v, want %d Conditions", keys(res), want)
				}
			}},
		{name: "group", url: "/Group/g1/$export", check: func(t *testing.T, res map[string][]map[string]any) {
			if count(res) != compartment("demo-2")+1 || len(res["Group"]) != 1 {
				t.Errorf("%d resources, want %d and the Group", count(res), compartment("demo-2")+1)
			}
			for _, p := range res["Patient"] {
				if p["id"] != "demo-2" {
					t.Errorf("group export holds Patient/%v", p["id"])
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			tc.check(t, outputs(t, base, export(t, base, base+tc.url, polls, method, body)))
		})
	}

	errs := []struct {
		name   string
		url    string
		header []string
		status int
	}{
		{name: "no respond-async", url: "/$export", status: 400},
		{name: "bad format", url: "/$export?_outputFormat=text/csv", header: []string{"Prefer", "respond-async"}, status: 400},
		{name: "bad type", url: "/$export?_type=Nope", header: []string{"Prefer", "respond-async"}, status: 400},
		{name: "unknown group", url: "/Group/none/$export", header: []string{"Prefer", "respond-async"}, status: 404},
		{name: "unknown job", url: "/bulkstatus/nothing", status: 404},
		{name: "unknown file", url: "/bulkfiles/nothing/Patient.ndjson", status: 404},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			if r := do(t, http.MethodGet, base+tc.url, nil, tc.header...); r.status != tc.status {
				t.Errorf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}

	t.Run("cancel", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/$export", nil, "Prefer", "respond-async")
		status := r.header.Get("Content-Location")
		if r := do(t, http.MethodDelete, status, nil); r.status != http.StatusAccepted {
			t.Fatalf("cancel: %d", r.status)
		}
		if r := do(t, http.MethodGet, status, nil); r.status != http.StatusNotFound {
			t.Errorf("poll after cancel: %d", r.status)
		}
		if r := do(t, http.MethodDelete, status, nil); r.status != http.StatusNotFound {
			t.Errorf("second cancel: %d", r.status)
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBulkNoPolls(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{ExportPolls: -1})
	base := hs.URL + "/fhir"
	m := export(t, base, base+"/$export?_type=Patient", 0, http.MethodGet, nil)
	if n := len(outputs(t, base, m)["Patient"]); n != 1 {
		t.Errorf("%d Patients", n)
	}
}
