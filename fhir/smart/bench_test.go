package smart

import (
	"strings"
	"testing"

	"github.com/ehigate/ehigate/fhir"
)

var benchScopes = strings.Fields("openid fhirUser launch/patient offline_access patient/Patient.rs patient/Observation.rs " +
	"patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item patient/MedicationRequest.rs patient/Practitioner.rs")

func BenchmarkNewGrant(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewGrant(benchScopes, "p1", "Patient/p1")
	}
}

func BenchmarkAuthorizeSearch(b *testing.B) {
	g := NewGrant(benchScopes, "p1", "Patient/p1")
	req, err := fhir.NewClassifier(fhir.ClassifierOptions{}).Classify("GET", "Observation", "code=8867-4&_count=50", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := g.Authorize(req); r.Narrow == "" {
			b.Fatal("not narrowed")
		}
	}
}

func BenchmarkCheckObservation(b *testing.B) {
	g := NewGrant(benchScopes, "p1", "Patient/p1")
	raw := []byte(`{"resourceType":"Observation","id":"o1","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-01","valueQuantity":{"value":72,"unit":"/min"}}`)
	var r fhir.Resource
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Reset(raw); err != nil {
			b.Fatal(err)
		}
		if g.Check(&r) != "" {
			b.Fatal("withheld")
		}
	}
}

func BenchmarkCheckGranular(b *testing.B) {
	g := NewGrant(benchScopes, "p1", "Patient/p1")
	raw := []byte(`{"resourceType":"Condition","id":"c1","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],` +
		`"code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`)
	var r fhir.Resource
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Reset(raw); err != nil {
			b.Fatal(err)
		}
		if g.Check(&r) != "" {
			b.Fatal("withheld")
		}
	}
}
