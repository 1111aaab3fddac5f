package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

var (
	harm = &decision.ExceptionRef{Code: "preventing-harm.individualized-determination", CFR: "45 CFR 171.201(c)(1)", CatalogVersion: "2026.07.1"}
	seg  = &decision.ExceptionRef{Code: "infeasibility.segmentation", CFR: "45 CFR 171.204(a)(2)", CatalogVersion: "2026.07.1"}
	perf = &decision.ExceptionRef{Code: "health-it-performance.assured-performance", CFR: "45 CFR 171.205(b)", CatalogVersion: "2026.07.1"}
	req  = &decision.ExceptionRef{Code: "not-interference.patient-requested-delay", CFR: "85 FR 25813", CatalogVersion: "2026.07.1"}
)

func pol(id string, a decision.Action, exc string) decision.PolicyRef {
	return decision.PolicyRef{ID: id, Version: "2", SHA256: strings.Repeat("ab", 32), Action: a, Exception: exc}
}

// cases are one record per pattern and outcome; each golden file holds
// the record's event, or a collection Bundle of its events when there are
// several.
var cases = []struct {
	name    string
	rec     *decision.Record
	pattern Pattern
	outcome string
	profile string
}{
	{"read-patient", record(), Read, "0", "PatientRead"},
	{"read-no-patient", record(func(r *decision.Record) {
		r.ID, r.Path, r.ResourceType, r.ResourceID, r.Patients = "01JZ8Y3Q7W4M0V5T2K9D6R1C3E", "/fhir/Organization/org-1", "Organization", "org-1", nil
		r.Requester = decision.Requester{ClientID: "directory-sync", Issuer: "https://idp.example-health.org", Class: decision.ClassApp, Addr: "2001:db8::7"}
	}), Read, "0", "Read"},
	{"vread", record(func(r *decision.Record) {
		r.ID, r.Interaction, r.Path = "01JZ8Y3Q7W4M0V5T2K9D6R1C3C", "vread", "/fhir/Observation/obs-1/_history/3"
	}), Read, "0", "PatientRead"},
	{"search-patients", record(func(r *decision.Record) {
		r.ID, r.Interaction, r.Path, r.ResourceID = "01JZ8Y3Q7W4M0V5T2K9D6R1C3D", "search-type", "/fhir/Observation", ""
		r.Patients = []string{"pat-1842", "pat-2211"}
		r.Requester = decision.Requester{Subject: "dr-9", ClientID: "ehr-viewer", Issuer: "https://idp.example-health.org", Class: decision.ClassProvider,
			Purpose: []string{"TREAT"}, FHIRUser: "Practitioner/dr-9", Addr: "198.51.100.4"}
		r.ResourcesReturned = map[string]int{"Observation": 12}
	}), Query, "0", "PatientQuery"},
	{"search-no-patient", record(func(r *decision.Record) {
		r.Interaction, r.Path, r.ResourceType, r.ResourceID, r.Patients = "search-type", "/fhir/Practitioner", "Practitioner", "", nil
	}), Query, "0", "Query"},
	{"history", record(func(r *decision.Record) {
		r.Interaction, r.Path = "history-instance", "/fhir/Observation/obs-1/_history"
	}), Query, "0", ""},
	{"operation-everything", record(func(r *decision.Record) {
		r.Interaction, r.Path, r.ResourceType, r.ResourceID, r.Operation = "operation", "/fhir/Patient/pat-1842/$everything", "Patient", "pat-1842", "everything"
	}), Query, "0", ""},
	{"create", record(func(r *decision.Record) {
		r.Interaction, r.Method, r.Path, r.ResourceID, r.Status = "create", "POST", "/fhir/Observation", "", 201
		r.Requester.Class = decision.ClassProvider
	}), Create, "0", "PatientCreate"},
	{"update", record(func(r *decision.Record) {
		r.Interaction, r.Method = "update", "PUT"
	}), Update, "0", "PatientUpdate"},
	{"patch", record(func(r *decision.Record) {
		r.Interaction, r.Method = "patch", "PATCH"
	}), Update, "0", "PatientUpdate"},
	{"delete", record(func(r *decision.Record) {
		r.Interaction, r.Method, r.Path, r.ResourceType, r.ResourceID, r.Patients, r.Status = "delete", "DELETE", "/fhir/Location/loc-3", "Location", "loc-3", nil, 204
	}), Delete, "0", "Delete"},
	{"authz-deny", record(func(r *decision.Record) {
		r.Action, r.Status, r.Exception = decision.Deny, 403, harm
		r.Requester.Class, r.Requester.Subject, r.Requester.FHIRUser = decision.ClassPersonalRepresentative, "rep-5", "RelatedPerson/rep-5"
		r.Patients = []string{"pat-0412"}
		r.Policies = []decision.PolicyRef{pol("harm-pat-0412-representative", decision.Deny, harm.Code)}
		r.ResourcesReturned, r.UpstreamStatus, r.BytesOut = nil, 0, 512
	}), AuthZ, "4", ""},
	{"authz-redact-consent", record(func(r *decision.Record) {
		r.Interaction, r.Path, r.ResourceID = "search-type", "/fhir/Observation", ""
		r.Action, r.Requester.Class = decision.Redact, decision.ClassHIN
		r.Exception = &decision.ExceptionRef{Code: "privacy.individual-request", CFR: "45 CFR 171.202(e)", CatalogVersion: "2026.07.1"}
		r.Policies = []decision.PolicyRef{
			pol("consent-directives", decision.Redact, "privacy.individual-request"),
			{ID: "Consent/pat-1842-no-hie", Version: "4", Action: decision.Redact, Exception: "privacy.individual-request", Consent: "Consent/pat-1842-no-hie/_history/4"},
		}
		r.Withheld = []decision.Withheld{{Type: "Observation", Count: 3, Policy: "Consent/pat-1842-no-hie"}, {Type: "Condition", Count: 1, Policy: "Consent/pat-1842-no-hie"}}
	}), AuthZ, "4", ""},
	{"authz-redact-nothing-withheld", record(func(r *decision.Record) {
		r.Action, r.Exception = decision.Redact, seg
		r.Policies = []decision.PolicyRef{pol("legacy-scanned-notes", decision.Redact, seg.Code)}
	}), AuthZ, "0", ""},
	{"authz-throttle", record(func(r *decision.Record) {
		r.Action, r.Status, r.Exception, r.RetryAfter = decision.Throttle, 429, perf, 12
		r.Requester.Class = decision.ClassApp
		r.Policies = []decision.PolicyRef{pol("app-rate-limit", decision.Throttle, perf.Code)}
		r.Throttle = &decision.ThrottleRef{Policy: "app-rate-limit", Key: "client_id:5e884898", Rate: 10, Burst: 100}
	}), AuthZ, "4", ""},
	{"authz-delay-hold", record(func(r *decision.Record) {
		at := t0.Add(72 * time.Hour)
		r.Action, r.Status, r.Exception = decision.Delay, 202, req
		r.Policies = []decision.PolicyRef{pol("results-delay-at-patient-request", decision.Delay, req.Code)}
		r.Hold = &decision.HoldRef{ReleaseAt: &at, StatusURL: "https://ehr.example-health.org/fhir/_hold/h1"}
	}), AuthZ, "4", ""},
	{"authz-delay-embargo", record(func(r *decision.Record) {
		at := t0.Add(72 * time.Hour)
		r.Interaction, r.Path, r.ResourceType, r.ResourceID = "search-type", "/fhir/DiagnosticReport", "DiagnosticReport", ""
		r.Action, r.Exception = decision.Delay, req
		r.Policies = []decision.PolicyRef{pol("results-delay-at-patient-request", decision.Delay, req.Code), {ID: "quiet-hours", Version: "1", Action: decision.Deny, Lapsed: true}}
		r.Withheld = []decision.Withheld{{Type: "DiagnosticReport", ID: "dr-1", Count: 1, Policy: "results-delay-at-patient-request", ReleaseAt: &at}}
		r.Flags = []decision.Flag{decision.FlagPolicyLapsed, decision.FlagReviewOverdue}
	}), AuthZ, "4", ""},
	{"authz-scope-denial", record(func(r *decision.Record) {
		r.Action, r.Status, r.Reason = decision.Deny, 403, "out-of-scope"
		r.Exception = &decision.ExceptionRef{Code: "privacy.individual-request", CatalogVersion: "2026.07.1"}
	}), AuthZ, "4", ""},
	{"error-unauthenticated", record(func(r *decision.Record) {
		r.Action, r.Status, r.Reason = decision.Error, 401, "unauthenticated"
		r.Requester = decision.Requester{TokenHash: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Addr: "192.0.2.99"}
	}), AuthZ, "4", ""},
	{"error-upstream-timeout", record(func(r *decision.Record) {
		r.Action, r.Status, r.Reason, r.UpstreamStatus = decision.Error, 504, "upstream-timeout", 0
		r.Flags = []decision.Flag{decision.FlagUpstreamError}
	}), Read, "8", ""},
	{"allow-upstream-refusal", record(func(r *decision.Record) {
		r.Status, r.UpstreamStatus = 403, 403
		r.Flags = []decision.Flag{decision.FlagUpstreamRestriction, decision.FlagUndocumented}
	}), Read, "4", ""},
	{"in-progress", record(func(r *decision.Record) {
		r.FulfilledAt, r.Status, r.UpstreamStatus, r.BytesOut, r.ResourcesReturned = nil, 0, 0, 0, nil
	}), Read, "", ""},
}

func TestEventsGolden(t *testing.T) {
	b := builder()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PatternOf(tc.rec); got != tc.pattern {
				t.Errorf("pattern %s, want %s", got, tc.pattern)
			}
			evs := b.Events(tc.rec)
			if want := max(1, len(tc.rec.Patients)); len(evs) != want {
				t.Fatalf("%d events, want %d", len(evs), want)
			}
			ids := EventIDs(tc.rec)
			for i := range evs {
				ev := &evs[i]
				if ev.ID != ids[i] || !fhir.ValidID(ev.ID) {
					t.Errorf("event %d id %q, EventIDs says %q", i, ev.ID, ids[i])
				}
				if ev.Outcome != tc.outcome {
					t.Errorf("outcome %q, want %q (%s)", ev.Outcome, tc.outcome, ev.OutcomeDesc)
				}
				profile := ""
				if ev.Meta != nil {
					profile = strings.TrimPrefix(ev.Meta.Profile[0], profileBase)
				}
				if profile != tc.profile {
					t.Errorf("profile %q, want %q", profile, tc.profile)
				}
				b, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				validR4(t, b)
			}
			var out []byte
			if len(evs) == 1 {
				out, _ = json.Marshal(&evs[0])
			} else {
				var buf bytes.Buffer
				bw := NewBundleWriter(&buf, BundleOptions{Type: "collection", ID: "events", Timestamp: t0, Base: "https://admin.example-health.org/fhir"})
				for i := range evs {
					bw.Add(&evs[i])
				}
				if err := bw.Close(""); err != nil {
					t.Fatal(err)
				}
				out = buf.Bytes()
				validR4(t, out)
			}
			golden(t, tc.name+".golden.json", out)
		})
	}
}

// TestEventRules checks the rules every event follows, whatever the
// pattern: BALP's agents and entities, no token, no body, one patient.
func TestEventRules(t *testing.T) {
	b := builder()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, ev := range b.Events(tc.rec) {
				raw, _ := json.Marshal(ev)
				for _, secret := range []string{tc.rec.Requester.TokenHash, tc.rec.TraceID, tc.rec.PolicySet} {
					if secret != "" && bytes.Contains(raw, []byte(secret)) {
						t.Errorf("event carries %q", secret)
					}
				}
				if len(ev.Agent) < 2 {
					t.Errorf("%d agents, BALP wants at least 2", len(ev.Agent))
				}
				requestors := 0
				for _, a := range ev.Agent {
					if a.Requestor {
						requestors++
					}
				}
				if requestors != 1 {
					t.Errorf("%d requestor agents", requestors)
				}
				var patients []string
				var query *Entity
				for k := range ev.Entity {
					e := &ev.Entity[k]
					if e.Role != nil && *e.Role == patientRole {
						patients = append(patients, e.What.Reference)
					}
					if e.Role != nil && *e.Role == queryRole {
						query = e
					}
				}
				if len(tc.rec.Patients) > 0 && (len(patients) != 1 || patients[0] != "Patient/"+tc.rec.Patients[i]) {
					t.Errorf("event %d names patients %v", i, patients)
				}
				if PatternOf(tc.rec) == Query || (tc.pattern == AuthZ && query != nil) {
					if query == nil {
						t.Fatal("no query entity")
					}
					got, err := base64.StdEncoding.DecodeString(query.Query)
					if err != nil || string(got) != tc.rec.Path {
						t.Errorf("query entity %q, want the base64 of the path %q", query.Query, tc.rec.Path)
					}
				}
				restricted := tc.rec.Action.Restricts()
				if (len(ev.Extension) > 0) != (restricted && (tc.rec.Exception != nil || len(decidingPolicies(tc.rec)) > 0)) {
					t.Errorf("exception extension: %+v", ev.Extension)
				}
				if restricted && !strings.HasPrefix(ev.OutcomeDesc, strings.ToUpper(tc.rec.Action.String())+": ") {
					t.Errorf("outcomeDesc %q", ev.OutcomeDesc)
				}
			}
		})
	}
}

func TestEventID(t *testing.T) {
	tests := []struct {
		name, record, patient, want string
	}{
		{"no patient", "01JZ8Y3Q7W4M0V5T2K9D6R1C3B", "", "01JZ8Y3Q7W4M0V5T2K9D6R1C3B"},
		{"patient", "01JZ8Y3Q7W4M0V5T2K9D6R1C3B", "pat-1", "01JZ8Y3Q7W4M0V5T2K9D6R1C3B-e7b2753c56bf"},
		{"record id not a FHIR id", "a/b", "", "c14cddc033f64b9dea80ea675cf280a0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EventID(tc.record, tc.patient)
			if !fhir.ValidID(got) {
				t.Fatalf("EventID = %q, not a FHIR id", got)
			}
			if got != tc.want {
				t.Errorf("EventID = %q, want %q", got, tc.want)
			}
			if EventID(tc.record, tc.patient) != got {
				t.Error("not deterministic")
			}
		})
	}
	if EventID("r", "p1") == EventID("r", "p2") || EventID("r1", "p") == EventID("r2", "p") {
		t.Error("ids collide")
	}
}

func TestPolicyURI(t *testing.T) {
	b := NewBuilder(Options{PolicyBase: "https://admin.example-health.org/api/policies/"})
	if got := b.PolicyURI("part2 non-treating", "1"); got != "https://admin.example-health.org/api/policies/part2%20non-treating@1" {
		t.Errorf("PolicyURI = %q", got)
	}
	if got := NewBuilder(Options{}).PolicyURI("app-rate-limit", "3"); got != "urn:ehigate:policy:app-rate-limit@3" {
		t.Errorf("PolicyURI = %q", got)
	}
}
