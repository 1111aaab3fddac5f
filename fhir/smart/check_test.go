package smart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/fhirdata"
)

func resource(t *testing.T, raw string) *fhir.Resource {
	t.Helper()
	r, err := fhir.NewResource([]byte(raw))
	if err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return r
}

func TestCheck(t *testing.T) {
	lab := "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
	obs := func(p, category string) string {
		return `{"resourceType":"Observation","id":"o","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"` +
			category + `"}]}],"code":{"text":"x"},"subject":{"reference":"Patient/` + p + `"}}`
	}
	pat := grant("p1", "patient/Observation.rs patient/Patient.r patient/Practitioner.rs")
	patAll := grant("p1", "patient/*.rs")
	tests := []struct {
		name string
		g    *Grant
		res  string
		mode string
		want Reason
	}{
		{"own Observation", pat, obs("p1", "laboratory"), "", ""},
		{"another patient's Observation", pat, obs("p2", "laboratory"), "", ReasonWrongPatient},
		{"Observation with no subject", pat, `{"resourceType":"Observation","id":"o"}`, "", ReasonWrongPatient},
		{"own Patient", pat, `{"resourceType":"Patient","id":"p1"}`, "", ""},
		{"another Patient", pat, `{"resourceType":"Patient","id":"p2"}`, "", ReasonWrongPatient},
		{"Patient linking to own", pat, `{"resourceType":"Patient","id":"p9","link":[{"other":{"reference":"Patient/p1"},"type":"seealso"}]}`, "", ""},
		{"type without scope", pat, `{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"}}`, "", ReasonOutOfScope},
		{"non-patient type with scope", pat, `{"resourceType":"Practitioner","id":"d"}`, "", ""},
		{"non-patient type without scope", grant("p1", "patient/Observation.rs"), `{"resourceType":"Practitioner","id":"d"}`, "", ReasonOutOfScope},
		{"device of own patient", patAll, `{"resourceType":"Device","id":"d","patient":{"reference":"Patient/p1"}}`, "", ""},
		{"device of another patient", patAll, `{"resourceType":"Device","id":"d","patient":{"reference":"Patient/p2"}}`, "", ReasonWrongPatient},
		{"device of nobody", patAll, `{"resourceType":"Device","id":"d"}`, "", ""},
		{"binary of another patient", patAll, `{"resourceType":"Binary","id":"b","securityContext":{"reference":"Patient/p2"}}`, "", ReasonWrongPatient},
		{"binary of a document", patAll, `{"resourceType":"Binary","id":"b","securityContext":{"reference":"DocumentReference/x"}}`, "", ""},
		{"document Bundle naming another patient", patAll, `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","subject":{"reference":"Patient/p2"}}}]}`, "", ReasonWrongPatient},
		{"document Bundle of own patient", patAll, `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","subject":{"reference":"Patient/p1"}}}]}`, "", ""},
		{"OperationOutcome", grant("", ""), `{"resourceType":"OperationOutcome","issue":[]}`, "", ""},
		{"outcome entry", grant("", ""), `{"resourceType":"Basic","id":"x"}`, "outcome", ""},
		{"Parameters", grant("", ""), `{"resourceType":"Parameters"}`, "", ""},
		{"user scope, any patient", grant("", "user/Observation.rs"), obs("p2", "laboratory"), "", ""},
		{"write-only scope releases nothing", grant("", "user/Observation.cud"), obs("p2", "laboratory"), "", ReasonOutOfScope},
		{"full grant", grant("", "system/*.rs"), `{"resourceType":"Condition","id":"c"}`, "", ""},
		{"granular: category met", grant("p1", "patient/Observation.rs?category="+lab), obs("p1", "laboratory"), "", ""},
		{"granular: code only", grant("p1", "patient/Observation.rs?category=laboratory"), obs("p1", "laboratory"), "", ""},
		{"granular: category not met", grant("p1", "patient/Observation.rs?category="+lab), obs("p1", "vital-signs"), "", ReasonOutOfScope},
		{"granular: met but another patient", grant("p1", "patient/Observation.rs?category="+lab), obs("p2", "laboratory"), "", ReasonWrongPatient},
		{"granular: system only", grant("p1", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|"), obs("p1", "survey"), "", ""},
		{"granular: one of two values", grant("p1", "patient/Observation.rs?category=vital-signs,laboratory"), obs("p1", "laboratory"), "", ""},
		{"granular: union of scopes", grant("p1", "patient/Observation.rs?category=vital-signs patient/Observation.rs?category=laboratory"), obs("p1", "laboratory"), "", ""},
		{"granular: plain code element", grant("", "user/Observation.rs?status=final"), obs("p1", "laboratory"), "", ""},
		{"granular: plain code element not met", grant("", "user/Observation.rs?status=preliminary"), obs("p1", "laboratory"), "", ReasonOutOfScope},
		{"granular: both constraints", grant("", "user/Observation.rs?status=final&category=laboratory"), obs("p1", "laboratory"), "", ""},
		{"granular: unknown parameter fails closed", grant("", "user/Observation.rs?value-quantity=5"), obs("p1", "laboratory"), "", ReasonOutOfScope},
		{"granular: modifier fails closed", grant("", "user/Observation.rs?category:not=survey"), obs("p1", "laboratory"), "", ReasonOutOfScope},
		{"granular: security label", grant("", "user/Observation.rs?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N"), `{"resourceType":"Observation","id":"o","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}`, "", ""},
		{"granular: Bundle needs an unconstrained scope", grant("", "user/Observation.rs?category=x"), `{"resourceType":"Bundle","type":"document"}`, "", ReasonOutOfScope},
		{"no launch patient", grant("", "patient/Observation.rs"), obs("p1", "laboratory"), "", ReasonOutOfScope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := resource(t, tc.res)
			r.Mode = tc.mode
			if got := tc.g.Check(r); got != tc.want {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckExamples runs every HL7 R4 example through a patient-context
// grant for the patient it belongs to (released) and for another patient
// (kept back when it is patient data).
func TestCheckExamples(t *testing.T) {
	files := fhirdata.Examples(t)
	released, wrong := 0, 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := fhir.NewResource(raw)
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		inCompartment := r.Type == "Patient" || fhir.CompartmentParams(r.Type) != nil
		pats := r.Patients()
		switch {
		case inCompartment && len(pats) > 0:
			if got := grant(pats[0], "patient/*.rs").Check(r); got != "" {
				t.Errorf("%s: own patient %s: %q", name, pats[0], got)
			}
			if got := grant("someone-else", "patient/*.rs").Check(r); got != ReasonWrongPatient {
				t.Errorf("%s: another patient: %q", name, got)
			}
			released++
		case inCompartment:
			if got := grant("someone-else", "patient/*.rs").Check(r); got != ReasonWrongPatient {
				t.Errorf("%s: no patient in a compartment type: %q", name, got)
			}
			wrong++
		}
		if got := grant("", "user/*.rs").Check(r); got != "" {
			t.Errorf("%s: user/*.rs: %q", name, got)
		}
	}
	if released < 100 {
		t.Errorf("only %d examples belong to a patient", released)
	}
	t.Logf("%d examples released to their patient, %d compartment examples naming no patient", released, wrong)
}
