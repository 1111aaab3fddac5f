package fhir

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
)

func TestDataClassNames(t *testing.T) {
	names := DataClassNames()
	if len(names) != 19 || !isSortedUnique(names) {
		t.Fatalf("DataClassNames() = %v: want 19 sorted unique names", names)
	}
	for _, want := range []string{"Laboratory", "Vital Signs", "Clinical Notes", "Care Team Member(s)", "Patient Demographics/Information"} {
		if !slices.Contains(names, want) {
			t.Errorf("missing class %q", want)
		}
	}
	names[0] = "changed"
	if DataClassNames()[0] == "changed" {
		t.Error("DataClassNames returns the shared table")
	}
	if allClasses.names() == nil || len(allClasses.names()) != 19 {
		t.Error("allClasses does not cover every class")
	}
	// Every class is reachable from some resource type.
	var m classMask
	for _, c := range typeClasses {
		m |= c
	}
	if m != allClasses {
		t.Errorf("classes %v held by no type", (allClasses &^ m).names())
	}
}

func TestDataClassesOf(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       []string
	}{
		{"lab observation", `{"resourceType":"Observation","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}]}`, []string{DataClassLaboratory}},
		{"vital signs", `{"resourceType":"Observation","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}]}`, []string{DataClassVitalSigns}},
		{"two categories", `{"resourceType":"Observation","category":[{"coding":[{"code":"laboratory"}]},{"coding":[{"system":"http://hl7.org/fhir/us/core/CodeSystem/us-core-category","code":"sdoh"}]}]}`, []string{DataClassHealthStatus, DataClassLaboratory}},
		{"known and unknown", `{"resourceType":"Observation","category":[{"coding":[{"code":"exam"}]},{"coding":[{"code":"survey"}]}]}`, []string{DataClassHealthStatus}},
		{"unknown category", `{"resourceType":"Observation","category":[{"coding":[{"code":"exam"}]}]}`, obsClasses},
		{"wrong system", `{"resourceType":"Observation","category":[{"coding":[{"system":"http://other","code":"laboratory"}]}]}`, obsClasses},
		{"no category", `{"resourceType":"Observation"}`, obsClasses},
		{"malformed category", `{"resourceType":"Observation","category":"laboratory"}`, obsClasses},
		{"lab report", `{"resourceType":"DiagnosticReport","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"LAB"}]}]}`, []string{DataClassLaboratory}},
		{"cardiology note", `{"resourceType":"DiagnosticReport","category":[{"coding":[{"system":"http://loinc.org","code":"LP29708-2"}]}]}`, []string{DataClassClinicalNotes}},
		{"problem", `{"resourceType":"Condition","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}]}`, []string{DataClassProblems}},
		{"encounter diagnosis", `{"resourceType":"Condition","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}]}`, []string{DataClassEncounter}},
		{"health concern", `{"resourceType":"Condition","category":[{"coding":[{"system":"http://hl7.org/fhir/us/core/CodeSystem/condition-category","code":"health-concern"}]}]}`, []string{DataClassHealthStatus, DataClassProblems}},
		{"allergy", `{"resourceType":"AllergyIntolerance","category":["food"]}`, []string{DataClassAllergies}},
		{"patient", `{"resourceType":"Patient"}`, []string{DataClassPatientDemographic}},
		{"related person", `{"resourceType":"RelatedPerson"}`, []string{DataClassCareTeam, DataClassPatientDemographic}},
		{"device", `{"resourceType":"Device"}`, []string{DataClassMedicalDevices}},
		{"document", `{"resourceType":"DocumentReference"}`, []string{DataClassClinicalNotes}},
		{"organization", `{"resourceType":"Organization"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewResource([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := DataClassesOf(r); !sameStrings(got, tc.want) {
				t.Errorf("DataClassesOf = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDataClassesCorpus classifies every synthea resource: classes are
// always within those of the type, and the well-coded synthea categories
// narrow them.
func TestDataClassesCorpus(t *testing.T) {
	narrowed := map[string]int{}
	for _, f := range classifyGlob(t, "synthea", "*.json") {
		_, b, ok := classifyReadJSON(t, f)
		if !ok {
			continue
		}
		var bundle struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(b, &bundle); err != nil {
			t.Fatal(err)
		}
		for _, e := range bundle.Entry {
			r, err := NewResource(e.Resource)
			if err != nil {
				t.Fatal(err)
			}
			got := resourceClasses(r)
			all := typeClasses[r.Type]
			if got&^all != 0 || (all != 0) != (got != 0) {
				t.Fatalf("%s %s: classes %v outside type classes %v", filepath.Base(f), r.Type, got.names(), all.names())
			}
			if got != all {
				narrowed[r.Type]++
			}
		}
	}
	for _, typ := range []string{"Observation", "DiagnosticReport"} {
		if narrowed[typ] == 0 {
			t.Errorf("no synthea %s narrowed by category", typ)
		}
	}
}
