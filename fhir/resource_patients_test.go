package fhir

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestPatientID(t *testing.T) {
	for _, tc := range []struct {
		ref, id string
		ok      bool
	}{
		{"Patient/1", "1", true},
		{"Patient/pat-1.a", "pat-1.a", true},
		{"Patient/1/_history/2", "1", true},
		{"http://x.org/fhir/Patient/abc", "abc", true},
		{"https://x.org/fhir/Patient/abc/_history/3", "abc", true},
		{"Patient/1?x=y", "1", true},
		{"Patient", "", false},
		{"Patient/", "", false},
		{"Patient/a_b", "", false},
		{"Patient/..", "", false},
		{"Patient/1/_history", "", false},
		{"Patient/1/_history/2/x", "", false},
		{"Patient/1/Observation", "", false},
		{"Group/1", "", false},
		{"#p1", "", false},
		{"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "", false},
		{"Observation/Patient", "", false},
		{"Patient/" + strings.Repeat("a", 65), "", false},
		{"", "", false},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			id, ok := PatientID(tc.ref)
			if id != tc.id || ok != tc.ok {
				t.Errorf("PatientID(%q) = %q, %v; want %q, %v", tc.ref, id, ok, tc.id, tc.ok)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"a", true}, {"A-1.b", true}, {strings.Repeat("x", 64), true},
		{"", false}, {strings.Repeat("x", 65), false}, {".", false}, {"..", false},
		{"a_b", false}, {"a b", false}, {"a/b", false}, {"é", false},
	} {
		if got := ValidID(tc.id); got != tc.ok {
			t.Errorf("ValidID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

func TestPatientsWithResolver(t *testing.T) {
	raw := []byte(`{"resourceType":"Observation","id":"o1",
		"subject":{"reference":"urn:uuid:aaa"},
		"performer":[{"reference":"Practitioner/9"},{"reference":"Patient/7"},{"reference":"urn:uuid:bbb"}]}`)
	r, err := NewResource(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Patients(); !slices.Equal(got, []string{"7"}) {
		t.Errorf("Patients() = %v, want [7]", got)
	}
	resolve := func(ref string) (string, bool) {
		switch ref {
		case "urn:uuid:aaa":
			return "p-a", true
		case "urn:uuid:bbb":
			return "bad id!", true // not a valid id: ignored
		}
		return "", false
	}
	if got := r.PatientsWith(resolve); !slices.Equal(got, []string{"7", "p-a"}) {
		t.Errorf("PatientsWith = %v, want [7 p-a]", got)
	}
}

// refPatientRE recognises a reference to a Patient, independently of
// PatientID.
var refPatientRE = regexp.MustCompile(`^(?:.*/)?Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$`)

// compartmentOracle computes a resource's Patients by evaluating the TSV's
// FHIRPath expressions over its decoded JSON.
type compartmentOracle map[string][]string // type -> expressions

func newCompartmentOracle(t testing.TB) compartmentOracle {
	o := compartmentOracle{}
	for _, r := range readCompartmentTSV(t) {
		o[r.Type] = append(o[r.Type], r.Expr)
	}
	return o
}

// patients evaluates the expressions of m's type; resolve maps references
// (urn:uuid) to a Patient id.
func (o compartmentOracle) patients(m map[string]any, resolve map[string]string) []string {
	typ, _ := m["resourceType"].(string)
	set := map[string]bool{}
	if id, _ := m["id"].(string); typ == "Patient" && id != "" {
		set[id] = true
	}
	for _, expr := range o[typ] {
		for _, part := range strings.Split(expr, "|") {
			part = strings.TrimSpace(part)
			// Both kinds of path put a resource in a Patient's compartment
			// only through references to a Patient, which the end of the
			// loop checks: ".where(resolve() is Patient)" says so
			// explicitly.
			path := strings.TrimPrefix(part, typ+".")
			path = strings.TrimSuffix(path, ".where(resolve() is Patient)")
			nodes := []any{m}
			for _, step := range strings.Split(path, ".") {
				var next []any
				for _, n := range nodes {
					obj, ok := n.(map[string]any)
					if !ok {
						continue
					}
					switch v := obj[step].(type) {
					case []any:
						next = append(next, v...)
					case nil:
					default:
						next = append(next, v)
					}
				}
				nodes = next
			}
			for _, n := range nodes {
				obj, ok := n.(map[string]any)
				if !ok {
					continue
				}
				ref, _ := obj["reference"].(string)
				if sm := refPatientRE.FindStringSubmatch(ref); sm != nil {
					set[sm[1]] = true
				} else if id, ok := resolve[ref]; ok {
					set[id] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// TestPatientsCorpus compares Resource.Patients with the oracle on every R4
// example (and every entry of the example Bundles, resolving fullUrls) and
// every entry of the synthea Bundles.
func TestPatientsCorpus(t *testing.T) {
	oracle := newCompartmentOracle(t)
	var checked, withPatients int
	check := func(name string, raw json.RawMessage, resolve map[string]string) {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		r, err := NewResource(raw)
		if err != nil {
			t.Errorf("%s: NewResource: %v", name, err)
			return
		}
		want := oracle.patients(m, resolve)
		var got []string
		if resolve == nil {
			got = r.Patients()
		} else {
			got = r.PatientsWith(func(ref string) (string, bool) { id, ok := resolve[ref]; return id, ok })
		}
		checked++
		if len(want) > 0 {
			withPatients++
		}
		if !sameStrings(got, want) {
			t.Errorf("%s: Patients() = %v, FHIRPath gives %v", name, got, want)
		}
	}
	checkBundle := func(name string, b []byte) {
		var bundle struct {
			Entry []struct {
				FullURL  string          `json:"fullUrl"`
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if json.Unmarshal(b, &bundle) != nil {
			return
		}
		resolve := map[string]string{}
		for _, e := range bundle.Entry {
			var head struct{ ResourceType, ID string }
			if json.Unmarshal(e.Resource, &head) == nil && head.ResourceType == "Patient" && head.ID != "" && e.FullURL != "" {
				resolve[e.FullURL] = head.ID
			}
		}
		for i, e := range bundle.Entry {
			if len(e.Resource) > 0 {
				check(name+"#"+strconv.Itoa(i), e.Resource, resolve)
			}
		}
	}
	for _, f := range classifyGlob(t, "r4-examples", "*.json") {
		if filepath.Base(f) == "package.json" {
			continue
		}
		m, b, ok := classifyReadJSON(t, f)
		if !ok {
			continue
		}
		check(fileBase(f), b, nil)
		if m["resourceType"] == "Bundle" {
			checkBundle(fileBase(f), b)
		}
	}
	exampleChecks := checked
	for _, f := range classifyGlob(t, "synthea", "*.json") {
		_, b, ok := classifyReadJSON(t, f)
		if !ok {
			continue
		}
		checkBundle(fileBase(f), b)
	}
	t.Logf("checked %d resources (%d from r4-examples), %d in a Patient compartment", checked, exampleChecks, withPatients)
	if exampleChecks < 690 || checked < 10000 || withPatients < 5000 {
		t.Errorf("corpus too small: %d resources, %d examples, %d with patients", checked, exampleChecks, withPatients)
	}
}
