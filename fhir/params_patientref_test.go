package fhir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// patientOnlyElements are the parameters the R4 SearchParameter
// clinical-patient shares with targets "Patient, Group" although the
// element on these types is Reference(Patient).
var patientOnlyElements = map[string]string{
	"AllergyIntolerance":  "patient",
	"Consent":             "patient",
	"DetectedIssue":       "patient",
	"EpisodeOfCare":       "patient",
	"FamilyMemberHistory": "patient",
	"Immunization":        "patient",
	"NutritionOrder":      "patient",
	"SupplyDelivery":      "patient",
	"VisionPrescription":  "patient",
}

// TestPatientRefParamsMatchSearchParameters checks the table against every
// R4 reference SearchParameter whose target includes Patient, for each of
// its base types, and the PatientOnly flag against the targets and
// expressions.
func TestPatientRefParamsMatchSearchParameters(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(classifyDataDir(t), "r4-spec", "search-parameters.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				Code       string   `json:"code"`
				Type       string   `json:"type"`
				Base       []string `json:"base"`
				Target     []string `json:"target"`
				Expression string   `json:"expression"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	want := map[string][]PatientRefParam{}
	for _, e := range bundle.Entry {
		sp := e.Resource
		if sp.Type != "reference" || !slices.Contains(sp.Target, "Patient") {
			continue
		}
		for _, base := range sp.Base {
			var frags []string
			for _, f := range strings.Split(sp.Expression, "|") {
				if f = strings.TrimSpace(f); strings.HasPrefix(f, base+".") {
					frags = append(frags, f)
				}
			}
			only := slices.Equal(sp.Target, []string{"Patient"}) || patientOnlyElements[base] == sp.Code
			if len(frags) > 0 {
				all := true
				for _, f := range frags {
					all = all && strings.HasSuffix(f, ".where(resolve() is Patient)")
				}
				only = only || all
			}
			want[base] = append(want[base], PatientRefParam{Param: sp.Code, PatientOnly: only})
		}
	}
	n := 0
	for base, ps := range want {
		slices.SortFunc(ps, func(a, b PatientRefParam) int { return strings.Compare(a.Param, b.Param) })
		n += len(ps)
		if got := PatientRefParams(base); !slices.Equal(got, ps) {
			t.Errorf("%s: table %v, spec %v", base, got, ps)
		}
	}
	if n != 241 {
		t.Errorf("spec gives %d (type, param) pairs, want 241", n)
	}
	for base := range patientRefParams {
		if _, ok := want[base]; !ok {
			t.Errorf("table type %s has no Patient-targeting reference parameter in the spec", base)
		}
	}
	// Every compartment parameter can target Patient.
	for typ, cps := range patientCompartment {
		for _, cp := range cps {
			if _, ok := patientRefParam(typ, cp.Param); !ok {
				t.Errorf("compartment param %s.%s missing from the reference table", typ, cp.Param)
			}
		}
	}
}

func TestPatientRefParamExamples(t *testing.T) {
	for _, tc := range []struct {
		typ, param string
		ok, only   bool
	}{
		{"Observation", "patient", true, true},
		{"Observation", "subject", true, false},
		{"Observation", "performer", true, false},
		{"Observation", "code", false, false},
		{"AllergyIntolerance", "patient", true, true},
		{"DeviceUseStatement", "patient", true, false},
		{"Coverage", "beneficiary", true, true},
		{"Organization", "partof", false, false},
	} {
		t.Run(tc.typ+"."+tc.param, func(t *testing.T) {
			p, ok := patientRefParam(tc.typ, tc.param)
			if ok != tc.ok || p.PatientOnly != tc.only {
				t.Errorf("got %+v %v, want ok=%v only=%v", p, ok, tc.ok, tc.only)
			}
		})
	}
}
