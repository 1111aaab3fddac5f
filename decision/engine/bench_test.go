package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/fhir"
)

// manyPolicies generates n policies of the kinds a deployment has: denials
// of single bad clients, redactions by label for classes of requesters
// (some with CEL conditions), patient requests not to share, throttles
// by class and maintenance windows.
func manyPolicies(tb testing.TB, n int) *policy.Set {
	var specs []spec
	classes := []string{"app", "payer", "hin", "research", "public-health"}
	for i := 0; len(specs) < n; i++ {
		id := fmt.Sprintf("p%03d", i)
		switch i % 6 {
		case 0:
			specs = append(specs, spec{id: id, action: "deny", exception: "security.case-determination",
				match: map[string]any{"requester": map[string]any{"client_id": []string{fmt.Sprintf("bad-client-%d", i)}}}})
		case 1:
			specs = append(specs, spec{id: id, action: "redact", exception: "privacy.precondition-not-satisfied",
				match: map[string]any{"requester": map[string]any{"class": []string{classes[i%len(classes)]}},
					"security_labels": []string{policy.SystemActUSPrivacyLaw + "|42CFRPart2", policy.SystemActCode + "|ETH"}}})
		case 2:
			specs = append(specs, spec{id: id, action: "redact", exception: "privacy.individual-request",
				match: map[string]any{"patients": []string{fmt.Sprintf("pat-%d", i)}, "requester": map[string]any{"not_class": []string{"patient"}}}})
		case 3:
			specs = append(specs, spec{id: id, action: "throttle", exception: "health-it-performance.assured-performance",
				match: map[string]any{"requester": map[string]any{"class": []string{classes[i%len(classes)]}}, "interactions": []string{"search-type", "search-system"},
					"when": fmt.Sprintf("size(request.patients) > %d", i%3)},
				extra: map[string]any{"throttle": map[string]any{"key": "client_id", "rate": "10/s", "burst": 20, "on_store_failure": "allow"}}})
		case 4:
			specs = append(specs, spec{id: id, action: "deny", exception: "health-it-performance.maintenance",
				match: map[string]any{"window": map[string]any{"from": "2026-08-01", "to": "2026-08-02"}, "resource_types": []string{"DocumentReference"}}})
		case 5:
			specs = append(specs, spec{id: id, action: "redact", exception: "preventing-harm.data-quality",
				match: map[string]any{"resource_types": []string{"Observation"}, "requester": map[string]any{"class": []string{"patient"}},
					"when":          "request.interaction != 'bulk-file'",
					"resource_when": fmt.Sprintf("has(resource.id) && resource.id == 'bad-%d'", i)}})
		}
	}
	return buildSet(tb, specs...)
}

// BenchmarkDecide measures Decide with 200 policies loaded over a mix of
// requests; p50-ns and p99-ns are per-request percentiles.
func BenchmarkDecide(b *testing.B) {
	e := New(manyPolicies(b, 200), Options{})
	reqs := []struct {
		req *fhir.Request
		who *decision.Requester
	}{
		{&fhir.Request{Method: "GET", Interaction: fhir.SearchType, ResourceType: "Observation", Patients: []string{"pat-2"}, DataClasses: []string{fhir.DataClassLaboratory}},
			&decision.Requester{Class: decision.ClassApp, ClientID: "good-app", Scopes: []string{"patient/*.read"}}},
		{&fhir.Request{Method: "GET", Interaction: fhir.Read, ResourceType: "Patient", ID: "pat-8", Patients: []string{"pat-8"}},
			&decision.Requester{Class: decision.ClassPatient, Subject: "pat-8"}},
		{&fhir.Request{Method: "GET", Interaction: fhir.Operation, Operation: "everything", ResourceType: "Patient", ID: "pat-14", Patients: []string{"pat-14"}},
			&decision.Requester{Class: decision.ClassProvider, ClientID: "ehr", Purpose: []string{"TREAT"}}},
		{&fhir.Request{Method: "GET", Interaction: fhir.SearchType, ResourceType: "Condition", Patients: []string{"pat-1", "pat-3"}},
			&decision.Requester{Class: decision.ClassPayer, ClientID: "bad-client-6"}},
	}
	at := time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC)
	ctx := context.Background()
	lat := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)]
		t0 := time.Now()
		d := e.Decide(ctx, r.req, r.who, at)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		_ = d
	}
	b.StopTimer()
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
}

// BenchmarkWithhold measures the per-resource check of a redaction with
// label, patient and CEL rules in play.
func BenchmarkWithhold(b *testing.B) {
	e := New(manyPolicies(b, 200), Options{})
	d := e.Decide(context.Background(), &fhir.Request{Interaction: fhir.SearchType, ResourceType: "Observation"},
		&decision.Requester{Class: decision.ClassPatient}, time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC))
	if d.Withhold == nil {
		b.Fatal("no redaction in force")
	}
	raw := []byte(`{"resourceType":"Observation","id":"o1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/pat-3"},"valueQuantity":{"value":6.1,"unit":"%"}}`)
	var res fhir.Resource
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if err := res.Reset(raw); err != nil {
			b.Fatal(err)
		}
		d.Withhold(&res)
	}
}
