package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/consent"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/gateway"
)

// refusingEHR refuses on its own: 503 for Patient reads (maintenance), 403
// for Observation reads, 429 for Encounter searches, and withholds
// Conditions with an OperationOutcome entry in its searchset.
func refusingEHR() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		path := strings.TrimPrefix(r.URL.Path, "/baseR4/")
		oo := func(status int, code string) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":%q}]}`, code)
		}
		switch {
		case strings.HasPrefix(path, "Patient/"):
			w.Header().Set("Retry-After", "120")
			oo(503, "transient")
		case strings.HasPrefix(path, "Observation/"):
			oo(403, "forbidden")
		case path == "Encounter":
			w.WriteHeader(429)
		case path == "Condition":
			io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[
				{"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}},"search":{"mode":"match"}},
				{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"suppressed","details":{"text":"Some results are not available through this API."}}]},"search":{"mode":"outcome"}}]}`)
		case path == "Procedure":
			io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":0,"entry":[
				{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"not-supported","diagnostics":"unknown parameter x"}]},"search":{"mode":"outcome"}}]}`)
		case strings.HasPrefix(path, "Device/"):
			oo(404, "not-found")
		default:
			io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":0}`)
		}
	})
}

func TestUpstreamRefusals(t *testing.T) {
	documented := []gateway.UpstreamRefusal{
		{Ref: decision.PolicyRef{ID: "ehr-maintenance", Version: "1", SHA256: strings.Repeat("ab", 32), Exception: "health-it-performance.maintenance"},
			Statuses: []int{503}},
		{Ref: decision.PolicyRef{ID: "ehr-hides-sensitive", Version: "2", SHA256: strings.Repeat("cd", 32), Exception: "privacy.precondition-not-satisfied"},
			IssueCodes: []string{"suppressed"}, Interactions: []string{"search-type"}, ResourceTypes: []string{"Condition"},
			ReviewBy: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	hs := newHarness(t, refusingEHR(), func(o *gateway.Options) { o.Refusals = documented })
	tests := []struct {
		path   string
		status int
	}{
		{"/Patient/p1", 503}, {"/Observation/o1", 403}, {"/Encounter?patient=p1", 429},
		{"/Condition?patient=p1", 200}, {"/Procedure?x=1", 200}, {"/Device/d1", 404}, {"/AllergyIntolerance?patient=p1", 200},
	}
	for _, tc := range tests {
		st, h, _ := getAs(t, hs.base+tc.path, "app")
		if st != tc.status {
			t.Fatalf("%s: %d, want the upstream's %d", tc.path, st, tc.status)
		}
		if tc.status == 503 && h.Get("Retry-After") != "120" {
			t.Fatalf("the upstream's Retry-After was not passed on")
		}
	}
	recs := hs.records()
	type want struct {
		restriction, undocumented, overdue bool
		policy                             string
		action                             decision.Action
	}
	wants := []want{
		{true, false, false, "ehr-maintenance", decision.Deny},
		{true, true, false, "", 0},
		{true, true, false, "", 0},
		{true, false, true, "ehr-hides-sensitive", decision.Redact},
		{false, false, false, "", 0},
		{false, false, false, "", 0},
		{false, false, false, "", 0},
	}
	for i, w := range wants {
		r := recs[i]
		if r.HasFlag(decision.FlagUpstreamRestriction) != w.restriction || r.HasFlag(decision.FlagUndocumented) != w.undocumented ||
			r.HasFlag(decision.FlagReviewOverdue) != w.overdue || r.Action != decision.Allow {
			t.Errorf("%s: action %s flags %v", tests[i].path, r.Action, r.Flags)
		}
		if w.restriction && (r.Reason != "upstream-refusal" || r.UpstreamStatus != tests[i].status) {
			t.Errorf("%s: reason %q upstream status %d", tests[i].path, r.Reason, r.UpstreamStatus)
		}
		idx := slices.IndexFunc(r.Policies, func(p decision.PolicyRef) bool { return p.ID == w.policy })
		if (w.policy != "") != (idx >= 0) {
			t.Errorf("%s: policies %+v", tests[i].path, r.Policies)
		} else if idx >= 0 && (r.Policies[idx].Action != w.action || r.Policies[idx].SHA256 == "" || r.Policies[idx].ReviewOverdue != w.overdue) {
			t.Errorf("%s: documenting entry %+v", tests[i].path, r.Policies[idx])
		}
	}
}

// TestConsentRestriction: a patient's Consent denies an HIE everything of
// theirs, and withholds the PSY-labelled resources of another patient
// from anyone; the records name the Consents.
func TestConsentRestriction(t *testing.T) {
	var cs []*consent.Consent
	for _, doc := range []string{
		`{"resourceType":"Consent","id":"no-hie","meta":{"versionId":"4"},"status":"active","patient":{"reference":"Patient/p1"},"dateTime":"2026-01-10",
		  "provision":{"type":"deny","actor":[{"role":{"coding":[{"code":"IRCP"}]},"reference":{"identifier":{"system":"https://ehigate.dev/fhir/sid/requester-class","value":"hin"}}}]}}`,
		`{"resourceType":"Consent","id":"no-psy","status":"active","patient":{"reference":"Patient/p2"},"dateTime":"2026-01-10",
		  "provision":{"type":"permit","provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}]}}`,
	} {
		p := consent.Parse("c.json", []byte(doc), false)
		if len(p.Consents) != 1 {
			t.Fatalf("%v", p.Problems)
		}
		cs = append(cs, p.Consents...)
	}
	e := engine.New(policySet(t), engine.Options{})
	e.SwapConsents(consent.NewSet(cs, consent.Options{Disclose: true,
		Notice: decision.Notice{Message: "The patient asked that these records not be shared with you", NextStep: "Ask the patient", Contact: "him@example.org"}}))
	ehr := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":3,"entry":[
			{"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p2"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}},"search":{"mode":"match"}},
			{"resource":{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"}},"search":{"mode":"match"}},
			{"resource":{"resourceType":"Condition","id":"c3","subject":{"reference":"Patient/p1"}},"search":{"mode":"match"}}]}`)
	})
	hs := newHarness(t, ehr, func(o *gateway.Options) { o.Decider = e; o.Identifier = headerIdentity{} })
	st, _, b := getAs(t, hs.base+"/Condition?patient=p1", "hie-1", "X-Test-Class", "hin")
	if st != 403 || !strings.Contains(string(b), "privacy.individual-request") {
		t.Fatalf("HIE, patient p1: %d %s", st, b)
	}
	st, _, b = getAs(t, hs.base+"/Condition", "app", "X-Test-Class", "app")
	if st != 200 || strings.Contains(string(b), `"c1"`) || !strings.Contains(string(b), `"c2"`) || !strings.Contains(string(b), `"c3"`) {
		t.Fatalf("app search: %d %s", st, b)
	}
	validR4(t, b)
	recs := hs.records()
	if r := recs[0]; r.Action != decision.Deny || r.Exception.Code != consent.Exception || len(r.Policies) != 1 || r.Policies[0].Consent != "Consent/no-hie/_history/4" {
		t.Fatalf("denied record %+v", r)
	}
	r := recs[1]
	if r.Action != decision.Redact || len(r.Withheld) != 1 || r.Withheld[0].Policy != "Consent/no-psy" {
		t.Fatalf("redacted record %+v", r)
	}
	if i := slices.IndexFunc(r.Policies, func(p decision.PolicyRef) bool { return p.Consent == "Consent/no-psy" }); i < 0 || r.Policies[i].Action != decision.Redact {
		t.Fatalf("the Consent that withheld is not among the policies: %+v", r.Policies)
	}
}
