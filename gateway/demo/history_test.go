package demo

import (
	"net/http"
	"testing"
)

func TestHistory(t *testing.T) {
	s, hs := newTestServer(t, 2, Options{})
	base := hs.URL + "/fhir"
	total := len(Generate(2, 1, testNow))
	// Two more versions of demo-1 and a delete, after a known instant.
	since := s.now()
	upd := []byte(`{"resourceType":"Patient","id":"demo-1","active":false}`)
	for range 2 {
		if r := do(t, http.MethodPut, base+"/Patient/demo-1", upd); r.status != 200 {
			t.Fatalf("update: %d", r.status)
		}
	}
	if r := do(t, http.MethodDelete, base+"/Encounter/demo-2-enc-1", nil); r.status != 200 {
		t.Fatalf("delete: %d", r.status)
	}
	nEnc := len(expect(generated(t, 2), "Encounter", nil))
	tests := []struct {
		name     string
		url      string
		total    int
		first    string // request.method and response.status of the newest entry
		status   string
		resource bool
	}{
		{name: "instance", url: "/Patient/demo-1/_history", total: 3, first: "PUT", status: "200 OK", resource: true},
		{name: "instance since", url: "/Patient/demo-1/_history?_since=" + since.Format(instantLayout), total: 2, first: "PUT", status: "200 OK", resource: true},
		{name: "type", url: "/Encounter/_history", total: nEnc + 1, first: "DELETE", status: "204 No Content"},
		{name: "system", url: "/_history", total: total + 3, first: "DELETE", status: "204 No Content"},
		{name: "system since", url: "/_history?_since=" + since.Format(instantLayout), total: 3, first: "DELETE", status: "204 No Content"},
		{name: "deleted instance", url: "/Encounter/demo-2-enc-1/_history", total: 2, first: "DELETE", status: "204 No Content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodGet, base+tc.url+sep(tc.url)+"_count=2", nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			b := r.json(t)
			if b["type"] != "history" || int(b["total"].(float64)) != tc.total {
				t.Fatalf("type %v total %v, want history %d", b["type"], b["total"], tc.total)
			}
			e := entries(t, b)[0]
			req := e["request"].(map[string]any)
			res := e["response"].(map[string]any)
			if req["method"] != tc.first || res["status"] != tc.status {
				t.Errorf("newest entry %v %v, want %s %s", req["method"], res["status"], tc.first, tc.status)
			}
			if (e["resource"] != nil) != tc.resource {
				t.Errorf("resource present: %v", e["resource"] != nil)
			}
			es, _, _ := walkPages(t, hs, base+tc.url+sep(tc.url)+"_count=2")
			if len(es) != tc.total {
				t.Errorf("paged %d entries, want %d", len(es), tc.total)
			}
		})
	}
	if r := do(t, http.MethodGet, base+"/Patient/nobody/_history", nil); r.status != 404 {
		t.Errorf("history of unknown: %d", r.status)
	}
}
