package fhir

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestIsResourceType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"Observation", true},
		{"Patient", true},
		{"Parameters", true},
		{"Bundle", true},
		{"MedicinalProductUndesirableEffect", true},
		{"Resource", false},
		{"DomainResource", false},
		{"observation", false},
		{"Observation ", false},
		{"", false},
		{"*", false},
		{"SubscriptionTopic", false}, // R5 only
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := IsResourceType(tc.in); got != tc.want {
				t.Errorf("IsResourceType(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestResourceTypesList(t *testing.T) {
	types := ResourceTypes()
	if len(types) != 146 {
		t.Errorf("got %d R4 resource types, want 146", len(types))
	}
	if !slices.IsSorted(types) || !isSortedUnique(types) {
		t.Error("ResourceTypes is not sorted and unique")
	}
	types[0] = "changed"
	if ResourceTypes()[0] == "changed" {
		t.Error("ResourceTypes returns the shared table")
	}
}

// TestResourceTypesAgainstSpec checks the table against the types of the
// R4 Patient CompartmentDefinition (which lists every type but Parameters)
// and every resourceType met in the R4 examples, nested ones included.
func TestResourceTypesAgainstSpec(t *testing.T) {
	dir := classifyDataDir(t)
	cd, _, ok := classifyReadJSON(t, filepath.Join(dir, "r4-spec", "CompartmentDefinition-patient.json"))
	if !ok {
		t.Fatal("CompartmentDefinition-patient.json does not parse")
	}
	listed := map[string]bool{}
	for _, r := range cd["resource"].([]any) {
		code := r.(map[string]any)["code"].(string)
		listed[code] = true
		if !IsResourceType(code) {
			t.Errorf("CompartmentDefinition type %s missing from the table", code)
		}
	}
	for _, rt := range ResourceTypes() {
		if !listed[rt] && rt != "Parameters" {
			t.Errorf("table type %s is not in the CompartmentDefinition", rt)
		}
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if rt, ok := x["resourceType"].(string); ok {
				seen[rt] = true
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	for _, f := range classifyGlob(t, "r4-examples", "*.json") {
		if filepath.Base(f) == "package.json" {
			continue
		}
		m, _, ok := classifyReadJSON(t, f)
		if !ok {
			continue
		}
		walk(m)
	}
	if len(seen) < 100 {
		t.Fatalf("only %d resource types seen in the examples", len(seen))
	}
	for rt := range seen {
		if !IsResourceType(rt) {
			t.Errorf("example resourceType %s is not in the table", rt)
		}
	}
}
