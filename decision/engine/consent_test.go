package engine

import (
	"context"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/consent"
	"github.com/ehigate/ehigate/fhir"
)

func consentSet(t *testing.T, docs ...string) *consent.Set {
	t.Helper()
	var cs []*consent.Consent
	for _, d := range docs {
		p := consent.Parse("c.json", []byte(d), false)
		if len(p.Problems) > 0 || len(p.Consents) != 1 {
			t.Fatalf("%v %+v", p.Problems, p.Skipped)
		}
		cs = append(cs, p.Consents...)
	}
	return consent.NewSet(cs, consent.Options{Disclose: true,
		Notice: decision.Notice{Message: "The patient asked that this not be shared with you", NextStep: "Ask the patient"},
		Actors: map[string]consent.ActorMatch{"Organization/hie": {Classes: []string{"hin"}}}})
}

const (
	noHIE = `{"resourceType":"Consent","id":"no-hie","meta":{"versionId":"2"},"status":"active","patient":{"reference":"Patient/p1"},"dateTime":"2026-01-10",
	  "provision":{"type":"deny","actor":[{"role":{"coding":[{"code":"IRCP"}]},"reference":{"reference":"Organization/hie"}}]}}`
	noPSY = `{"resourceType":"Consent","id":"no-psy","status":"active","patient":{"reference":"Patient/p2"},"dateTime":"2026-01-10",
	  "provision":{"type":"permit","provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}]}}`
)

func TestConsents(t *testing.T) {
	deny := spec{id: "deny-bad", action: "deny", exception: "security.case-determination",
		match: map[string]any{"requester": map[string]any{"client_id": []string{"bad"}}}}
	e := New(buildSet(t, deny), Options{})
	e.SwapConsents(consentSet(t, noHIE, noPSY))
	hin := &decision.Requester{ClientID: "hie-1", Class: decision.ClassHIN}
	app := &decision.Requester{ClientID: "app", Class: decision.ClassApp}
	tests := []struct {
		name     string
		req      *fhir.Request
		who      *decision.Requester
		action   decision.Action
		consents []string // Consent refs among the policies
	}{
		{"the patient's records to the HIE", &fhir.Request{Interaction: fhir.SearchType, ResourceType: "Condition", Patients: []string{"p1"}}, hin,
			decision.Deny, []string{"Consent/no-hie/_history/2"}},
		{"two patients, one without a Consent: checked per resource", &fhir.Request{Interaction: fhir.SearchType, ResourceType: "Condition", Patients: []string{"p1", "p3"}}, hin,
			decision.Redact, []string{"Consent/no-hie/_history/2"}},
		{"another requester: PSY labels are checked per resource", &fhir.Request{Interaction: fhir.SearchType, ResourceType: "Condition", Patients: []string{"p1"}}, app,
			decision.Redact, nil},
		{"the patient themselves", &fhir.Request{Interaction: fhir.Read, ResourceType: "Patient", ID: "p2", Patients: []string{"p2"}},
			&decision.Requester{Class: decision.ClassPatient, Patient: "p2", FHIRUser: "Patient/p2"}, decision.Redact, nil},
		{"a denial by policy stands", &fhir.Request{Interaction: fhir.Read, ResourceType: "Patient", ID: "p1", Patients: []string{"p1"}},
			&decision.Requester{ClientID: "bad", Class: decision.ClassHIN}, decision.Deny, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := e.Decide(context.Background(), tc.req, tc.who, now)
			if d.Action != tc.action {
				t.Fatalf("action %s, want %s", d.Action, tc.action)
			}
			var refs []string
			for _, p := range d.Policies {
				if p.Consent != "" {
					refs = append(refs, p.Consent)
					if p.Exception != consent.Exception || p.SHA256 == "" {
						t.Fatalf("consent ref %+v", p)
					}
				}
			}
			if joined(refs) != joined(tc.consents) {
				t.Fatalf("consents %v, want %v", refs, tc.consents)
			}
			if d.Action == decision.Deny && len(tc.consents) > 0 && (d.Exception == nil || d.Exception.Code != consent.Exception || d.Notice.Status != 403) {
				t.Fatalf("denial %+v %+v", d.Exception, d.Notice)
			}
		})
	}
	d := e.Decide(context.Background(), &fhir.Request{Interaction: fhir.SearchSystem}, app, now)
	psy := resource(t, `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p2"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}`)
	other := resource(t, `{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p3"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}`)
	if w, tag := d.Withhold(psy); !w || tag != "Consent/no-psy" {
		t.Fatalf("PSY of p2: %v %q", w, tag)
	}
	if w, _ := d.Withhold(other); w {
		t.Fatal("PSY of a patient without a Consent withheld")
	}
	red := d.RedactionOf("Consent/no-psy")
	if red == nil || !red.Disclose || red.Exception == nil || red.Exception.Code != consent.Exception {
		t.Fatalf("redaction %+v", red)
	}
	if ref, ok := d.Resolve("Consent/no-psy"); !ok || ref.Consent != "Consent/no-psy" || ref.Action != decision.Redact {
		t.Fatalf("resolve %+v %v", ref, ok)
	}
	// Without Consents that may deny the requester, responses are not
	// checked at all.
	e.SwapConsents(consentSet(t, noHIE))
	if d := e.Decide(context.Background(), &fhir.Request{Interaction: fhir.SearchSystem}, app, now); d.Withhold != nil || d.Action != decision.Allow {
		t.Fatalf("action %s with a Withhold %v", d.Action, d.Withhold != nil)
	}
}
