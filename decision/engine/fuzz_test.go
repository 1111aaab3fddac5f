package engine

import (
	"context"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// FuzzWithhold shows arbitrary resources (untrusted upstream content) to
// the Withhold of a decision with label, type, patient, data class and
// CEL rules in play: it must never panic, and must be deterministic.
func FuzzWithhold(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Observation","id":"o4","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"valueQuantity":{"value":15.2}}`,
		`{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]},"subject":{"reference":"Patient/p1"}}`,
		`{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Observation","valueQuantity":{"value":1e400}}}]}`,
		`{"resourceType":"Observation","contained":[{"resourceType":"Observation","contained":[{"resourceType":"Observation"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	set := buildSet(f,
		spec{id: "labels", action: "redact", exception: "privacy.precondition-not-satisfied",
			match: map[string]any{"security_labels": []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|ETH"}}},
		spec{id: "labs", action: "redact", exception: "infeasibility.segmentation",
			match: map[string]any{"data_classes": []string{"Laboratory"}, "patients": []string{"p1"}}},
		spec{id: "cel", action: "redact", exception: "preventing-harm.data-quality",
			match: map[string]any{"resource_types": []string{"Observation"},
				"resource_when": "has(resource.valueQuantity) && resource.valueQuantity.value > 14 && resource.code.coding.exists(c, c.code == '4548-4')"}},
	)
	d := New(set, Options{}).Decide(context.Background(), &fhir.Request{Interaction: fhir.SearchSystem}, &decision.Requester{}, now)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r fhir.Resource
		if r.Reset(b) != nil {
			return
		}
		w1, p1 := d.Withhold(&r)
		r.Reset(b)
		w2, p2 := d.Withhold(&r)
		if w1 != w2 || p1 != p2 {
			t.Fatalf("not deterministic: %v %s / %v %s", w1, p1, w2, p2)
		}
	})
}
