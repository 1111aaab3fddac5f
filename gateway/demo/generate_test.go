package demo

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGenerateGolden(t *testing.T) {
	var buf bytes.Buffer
	for _, r := range Generate(2, 1, testNow) {
		buf.Write(r)
		buf.WriteByte('\n')
	}
	golden(t, "generate-2-seed1.ndjson", buf.Bytes())
}

func TestGenerateDeterministic(t *testing.T) {
	join := func(rs []json.RawMessage) []byte {
		var b []byte
		for _, r := range rs {
			b = append(append(b, r...), '\n')
		}
		return b
	}
	tests := []struct {
		name string
		a, b []json.RawMessage
		same bool
	}{
		{name: "same seed", a: Generate(5, 7, testNow), b: Generate(5, 7, testNow), same: true},
		{name: "other seed", a: Generate(5, 7, testNow), b: Generate(5, 8, testNow)},
		{name: "other now", a: Generate(5, 7, testNow), b: Generate(5, 7, testNow.Add(time.Hour))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(join(tc.a), join(tc.b)) != tc.same {
				t.Errorf("outputs equal: %v, want %v", !tc.same, tc.same)
			}
		})
	}
}

func TestGenerateContent(t *testing.T) {
	const n = 40
	all := generated(t, n)
	seen := map[string]bool{}
	for _, r := range all {
		if seen[r.key()] {
			t.Errorf("duplicate %s", r.key())
		}
		seen[r.key()] = true
		if p := jsonRules(map[string]any(r), r.key()); len(p) > 0 {
			t.Errorf("FHIR JSON rules: %v", p)
		}
	}
	// Every reference resolves inside the generated set.
	for _, r := range all {
		for _, ref := range allRefs(map[string]any(r), nil) {
			if !seen[ref] {
				t.Errorf("%s refers to missing %s", r.key(), ref)
			}
		}
	}
	labelled := func(p, typ, code string) bool {
		return len(expect(all, typ, func(r genResource) bool {
			return (r.refTo("subject", "Patient/"+p) || r.refTo("patient", "Patient/"+p)) && r.hasLabel(code)
		})) > 0
	}
	for _, tc := range []struct{ typ, code string }{
		{"Condition", "ETH"}, {"Condition", "42CFRPart2"}, {"Condition", "R"}, {"Condition", "NORDSCLCD"},
		{"DocumentReference", "PSY"}, {"Observation", "SEX"}, {"Condition", "SEX"}, {"Observation", "N"},
	} {
		if !labelled("demo-1", tc.typ, tc.code) {
			t.Errorf("demo-1 has no %s labelled %s", tc.typ, tc.code)
		}
	}
	var recent, old, eth, psy int
	for _, r := range all {
		if r["resourceType"] == "Observation" && r.hasCoding("category", "", "laboratory") {
			issued, err := time.Parse(time.RFC3339, r["issued"].(string))
			if err != nil {
				t.Fatal(err)
			}
			switch age := testNow.Sub(issued); {
			case age < 0:
				t.Errorf("%s issued after now", r.key())
			case age <= 72*time.Hour:
				recent++
			default:
				old++
			}
		}
		if r.hasLabel("ETH") {
			eth++
		}
		if r.hasLabel("PSY") {
			psy++
		}
	}
	if recent == 0 || old == 0 {
		t.Errorf("lab results: %d within 72 h, %d older; want both", recent, old)
	}
	if eth < 2 || eth > n/2 || psy < 2 || psy > n/2 {
		t.Errorf("labels on %d ETH and %d PSY resources for %d patients: want a few", eth, psy, n)
	}
	for _, r := range expect(all, "Patient", nil) {
		if !strings.HasPrefix(r, "Patient/demo-") {
			t.Errorf("patient id %s", r)
		}
	}
	types := map[string]bool{}
	for _, r := range all {
		types[r["resourceType"].(string)] = true
	}
	want := []string{"AllergyIntolerance", "Condition", "Coverage", "DiagnosticReport", "DocumentReference", "Encounter",
		"Immunization", "MedicationRequest", "Observation", "Organization", "Patient", "Practitioner", "Procedure"}
	if got := keys(types); !slices.Equal(sorted(got), want) {
		t.Errorf("types %v, want %v", sorted(got), want)
	}
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}
