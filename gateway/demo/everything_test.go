package demo

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// allRefs returns every reference string in v.
func allRefs(v any, out []string) []string {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok && k == "reference" {
				out = append(out, s)
			} else {
				out = allRefs(e, out)
			}
		}
	case []any:
		for _, e := range t {
			out = allRefs(e, out)
		}
	}
	return out
}

// everythingOracle computes Patient/p/$everything over generated data: the
// Patient, what refers to it as subject, patient or beneficiary, and the
// Practitioners and Organizations those refer to.
func everythingOracle(all []genResource, p string) []string {
	byKey := map[string]bool{}
	for _, r := range all {
		byKey[r.key()] = true
	}
	var out []string
	var refs []string
	for _, r := range all {
		if r.key() == "Patient/"+p || r.refTo("subject", "Patient/"+p) || r.refTo("patient", "Patient/"+p) || r.refTo("beneficiary", "Patient/"+p) {
			out = append(out, r.key())
			refs = allRefs(map[string]any(r), refs)
		}
	}
	for _, ref := range refs {
		if (strings.HasPrefix(ref, "Practitioner/") || strings.HasPrefix(ref, "Organization/")) && byKey[ref] && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

func TestEverything(t *testing.T) {
	_, hs := newTestServer(t, 3, Options{})
	base := hs.URL + "/fhir"
	all := generated(t, 3)
	var allPatients []string
	for _, p := range []string{"demo-1", "demo-2", "demo-3"} {
		for _, k := range everythingOracle(all, p) {
			if !slices.Contains(allPatients, k) {
				allPatients = append(allPatients, k)
			}
		}
	}
	tests := []struct {
		name   string
		url    string
		method string
		status int
		want   []string
	}{
		{name: "instance", url: "/Patient/demo-1/$everything", want: everythingOracle(all, "demo-1")},
		{name: "instance POST", url: "/Patient/demo-3/$everything", method: "POST", want: everythingOracle(all, "demo-3")},
		{name: "type filter", url: "/Patient/demo-2/$everything?_type=Patient,Condition", want: append(expect(all, "Condition", func(r genResource) bool { return r.refTo("subject", "Patient/demo-2") }), "Patient/demo-2")},
		{name: "since future", url: "/Patient/demo-2/$everything?_since=2031-01-01", want: nil},
		{name: "type level", url: "/Patient/$everything", want: allPatients},
		{name: "unknown patient", url: "/Patient/nobody/$everything", status: 404},
		{name: "on other type", url: "/Observation/demo-1-obs-1/$everything", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status != 0 {
				if r := do(t, http.MethodGet, base+tc.url, nil); r.status != tc.status {
					t.Fatalf("status %d, want %d", r.status, tc.status)
				}
				return
			}
			first := base + tc.url + sep(tc.url) + "_count=10"
			if tc.method == "POST" {
				r := do(t, http.MethodPost, first, []byte(`{"resourceType":"Parameters","parameter":[{"name":"_count","valueInteger":10}]}`))
				if r.status != 200 {
					t.Fatalf("POST: %d %s", r.status, r.body)
				}
				first = linkURL(r.json(t), "first")
			}
			es, total, _ := walkPages(t, hs, first)
			got := ids(es)
			sortEq(t, "$everything", got, tc.want)
			if int(total) != len(tc.want) {
				t.Errorf("total %v, want %d", total, len(tc.want))
			}
			for _, e := range es {
				k := ids([]map[string]any{e})[0]
				mode := e["search"].(map[string]any)["mode"]
				nonPatient := strings.HasPrefix(k, "Practitioner/") || strings.HasPrefix(k, "Organization/")
				if nonPatient != (mode == "include") {
					t.Errorf("%s has search.mode %v", k, mode)
				}
			}
		})
	}
}
