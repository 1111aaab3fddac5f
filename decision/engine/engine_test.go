package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/fhir"
)

var now = time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC) // a Thursday

func read(typ, id string) *fhir.Request {
	return &fhir.Request{Method: "GET", Interaction: fhir.Read, ResourceType: typ, ID: id}
}

func TestRequestMatching(t *testing.T) {
	denyWith := func(match map[string]any) spec {
		return spec{id: "d", action: "deny", exception: "security.case-determination", match: match}
	}
	app := &decision.Requester{Class: decision.ClassApp, ClientID: "c1", Issuer: "https://idp", Subject: "u1", Scopes: []string{"patient/*.read"}}
	prov := &decision.Requester{Class: decision.ClassProvider, ClientID: "c2", Purpose: []string{"TREAT"}}
	obs := &fhir.Request{Method: "GET", Interaction: fhir.SearchType, ResourceType: "Observation", Patients: []string{"p1"}, DataClasses: []string{fhir.DataClassLaboratory}}
	tests := []struct {
		name  string
		match map[string]any
		req   *fhir.Request
		who   *decision.Requester
		at    time.Time
		want  bool
	}{
		{"empty match", map[string]any{}, obs, app, now, true},
		{"class", map[string]any{"requester": map[string]any{"class": []string{"app"}}}, obs, app, now, true},
		{"other class", map[string]any{"requester": map[string]any{"class": []string{"payer"}}}, obs, app, now, false},
		{"not_class", map[string]any{"requester": map[string]any{"not_class": []string{"provider"}}}, obs, prov, now, false},
		{"not_class other", map[string]any{"requester": map[string]any{"not_class": []string{"provider"}}}, obs, app, now, true},
		{"client", map[string]any{"requester": map[string]any{"client_id": []string{"c1", "c9"}}}, obs, app, now, true},
		{"issuer", map[string]any{"requester": map[string]any{"issuer": []string{"https://other"}}}, obs, app, now, false},
		{"subject", map[string]any{"requester": map[string]any{"subject": []string{"u1"}}}, obs, app, now, true},
		{"scope", map[string]any{"requester": map[string]any{"scopes": []string{"system/*.read", "patient/*.read"}}}, obs, app, now, true},
		{"scope missing", map[string]any{"requester": map[string]any{"scopes": []string{"system/*.read"}}}, obs, app, now, false},
		{"interaction", map[string]any{"interactions": []string{"search-type"}}, obs, app, now, true},
		{"other interaction", map[string]any{"interactions": []string{"read"}}, obs, app, now, false},
		{"batch entry interaction", map[string]any{"interactions": []string{"delete"}},
			&fhir.Request{Interaction: fhir.Batch, Entries: []fhir.Entry{{Request: fhir.Request{Interaction: fhir.Delete, ResourceType: "Patient"}}}}, app, now, true},
		{"type", map[string]any{"resource_types": []string{"Observation"}}, obs, app, now, true},
		{"other type", map[string]any{"resource_types": []string{"Condition"}}, obs, app, now, false},
		{"compartment * touches every type", map[string]any{"resource_types": []string{"Condition"}},
			&fhir.Request{Interaction: fhir.SearchType, ResourceType: "*", Compartment: fhir.Compartment{Type: "Patient", ID: "p1"}}, app, now, true},
		{"everything touches every type", map[string]any{"resource_types": []string{"Condition"}},
			&fhir.Request{Interaction: fhir.Operation, Operation: "everything", ResourceType: "Patient", ID: "p1"}, app, now, true},
		{"_type narrows export", map[string]any{"resource_types": []string{"Condition"}},
			&fhir.Request{Interaction: fhir.Operation, Operation: "export", Params: []fhir.Param{{Name: "_type", Values: []string{"Patient", "Observation"}}}}, app, now, false},
		{"_revinclude brings the type", map[string]any{"resource_types": []string{"Condition"}},
			&fhir.Request{Interaction: fhir.SearchType, ResourceType: "Patient", Params: []fhir.Param{{Name: "_revinclude", Values: []string{"Condition:subject"}}}}, app, now, true},
		{"data class", map[string]any{"data_classes": []string{"Laboratory"}}, obs, app, now, true},
		{"other data class", map[string]any{"data_classes": []string{"Immunizations"}}, obs, app, now, false},
		{"patient", map[string]any{"patients": []string{"p1"}}, obs, app, now, true},
		{"other patient", map[string]any{"patients": []string{"p2"}}, obs, app, now, false},
		{"window open", map[string]any{"window": map[string]any{"from": "2026-07-01", "to": "2026-07-03"}}, obs, app, now, true},
		{"window closed", map[string]any{"window": map[string]any{"to": "2026-07-01"}}, obs, app, now, false},
		{"weekly slot in zone", map[string]any{"window": map[string]any{"time_zone": "America/Chicago", "weekly": []any{map[string]any{"days": []string{"thu"}, "from": "09:00", "to": "11:00"}}}}, obs, app, now, true},
		{"weekly slot outside", map[string]any{"window": map[string]any{"time_zone": "America/Chicago", "weekly": []any{map[string]any{"days": []string{"thu"}, "from": "11:00", "to": "24:00"}}}}, obs, app, now, false},
		{"when over requester", map[string]any{"when": "requester.class != 'provider' || !('TREAT' in requester.purpose)"}, obs, prov, now, false},
		{"when over requester, app", map[string]any{"when": "requester.class != 'provider' || !('TREAT' in requester.purpose)"}, obs, app, now, true},
		{"when over request", map[string]any{"when": "request.resource_type == 'Observation' && 'p1' in request.patients && now > timestamp('2026-01-01T00:00:00Z')"}, obs, app, now, true},
		{"when error is no match", map[string]any{"when": "request.params['code'][0] == 'x'"}, obs, app, now, false},
		{"all criteria", map[string]any{"requester": map[string]any{"class": []string{"app"}}, "interactions": []string{"search-type"}, "patients": []string{"p9"}}, obs, app, now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New(buildSet(t, denyWith(tc.match)), Options{})
			d := e.Decide(context.Background(), tc.req, tc.who, tc.at)
			if got := d.Action == decision.Deny; got != tc.want {
				t.Fatalf("matched = %v, want %v (decision %+v)", got, tc.want, d)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	pol := map[string]spec{
		"allow":    {id: "allow", action: "allow", exception: "required-by-law"},
		"redact":   {id: "redact", action: "redact", exception: "privacy.individual-request", match: map[string]any{"resource_types": []string{"Observation"}}},
		"throttle": {id: "throttle", action: "throttle", exception: "health-it-performance.assured-performance", extra: map[string]any{"throttle": map[string]any{"key": "client_id", "rate": "600/m", "burst": 5, "on_store_failure": "deny"}}},
		"delay":    {id: "delay", action: "delay", exception: "not-interference.necessary-delay", extra: map[string]any{"delay": map[string]any{"form": "hold", "release": "staff"}}},
		"deny":     {id: "deny", action: "deny", exception: "security.case-determination"},
		"deny2":    {id: "deny2", action: "deny", exception: "infeasibility.segmentation"},
	}
	tests := []struct {
		in   []string
		want decision.Action
		exc  string
	}{
		{nil, decision.Allow, ""},
		{[]string{"allow"}, decision.Allow, ""},
		{[]string{"allow", "redact"}, decision.Redact, "privacy.individual-request"},
		{[]string{"redact", "throttle"}, decision.Throttle, "health-it-performance.assured-performance"},
		{[]string{"throttle", "delay", "redact"}, decision.Delay, "not-interference.necessary-delay"},
		{[]string{"deny", "delay", "throttle", "redact", "allow"}, decision.Deny, "security.case-determination"},
		{[]string{"allow", "redact", "throttle", "delay", "deny"}, decision.Deny, "security.case-determination"},
		{[]string{"deny2", "deny"}, decision.Deny, "infeasibility.segmentation"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(append([]string{"none"}, tc.in...), "+"), func(t *testing.T) {
			var specs []spec
			for _, n := range tc.in {
				specs = append(specs, pol[n])
			}
			var set *policy.Set
			if len(specs) == 0 {
				set = policy.Empty(buildSet(t, pol["allow"]).Catalog())
			} else {
				set = buildSet(t, specs...)
			}
			d := New(set, Options{}).Decide(context.Background(), read("Observation", "o1"), &decision.Requester{}, now)
			if d.Action != tc.want {
				t.Fatalf("action %s, want %s", d.Action, tc.want)
			}
			if len(d.Policies) != len(tc.in) {
				t.Fatalf("%d policies recorded, want %d", len(d.Policies), len(tc.in))
			}
			got := ""
			if d.Exception != nil {
				got = d.Exception.Code
				if d.Exception.CatalogVersion == "" || d.Exception.CFR == "" {
					t.Fatalf("exception ref %+v", d.Exception)
				}
			}
			if got != tc.exc {
				t.Fatalf("exception %q, want %q", got, tc.exc)
			}
			if d.PolicySet != set.Hash() {
				t.Fatal("policy set hash not recorded")
			}
			switch tc.want {
			case decision.Throttle:
				if l := d.Limit; l == nil || l.Rate != 10 || l.Burst != 5 || l.OnStoreFailure != decision.Deny || l.Key != "client_id" {
					t.Fatalf("limit %+v", d.Limit)
				}
			case decision.Delay:
				if dl := d.Delay; dl == nil || dl.Form != "hold" || !dl.StaffRelease {
					t.Fatalf("delay %+v", d.Delay)
				}
			}
			// Redaction stays in force under throttle and delay (the
			// request may still go through), never under deny.
			if slices.Contains(tc.in, "redact") {
				if (d.Withhold == nil) != (tc.want == decision.Deny) {
					t.Fatalf("withhold set = %v under %s", d.Withhold != nil, d.Action)
				}
			}
		})
	}
}

func TestReviewLifecycle(t *testing.T) {
	keep := spec{id: "keep", action: "deny", exception: "security.case-determination", reviewBy: "2026-07-01"}
	lapse := spec{id: "lapse", action: "deny", exception: "security.case-determination", reviewBy: "2026-07-01",
		extra: map[string]any{"on_review_overdue": "lapse"}}
	current := spec{id: "current", action: "redact", exception: "privacy.individual-request", match: map[string]any{"resource_types": []string{"Condition"}}}
	tests := []struct {
		name   string
		specs  []spec
		at     time.Time
		action decision.Action
		flags  []decision.Flag
		refs   string
	}{
		{"before review_by", []spec{keep}, time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), decision.Deny, nil, "keep"},
		{"overdue keeps enforcing", []spec{keep}, now, decision.Deny, []decision.Flag{decision.FlagReviewOverdue}, "keep:overdue"},
		{"overdue lapses", []spec{lapse}, now, decision.Allow, []decision.Flag{decision.FlagReviewOverdue, decision.FlagPolicyLapsed}, "lapse:overdue:lapsed"},
		{"lapsed deny leaves redact", []spec{lapse, current}, now, decision.Redact, []decision.Flag{decision.FlagReviewOverdue, decision.FlagPolicyLapsed}, "lapse:overdue:lapsed current"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := New(buildSet(t, tc.specs...), Options{}).Decide(context.Background(), read("Condition", "c"), &decision.Requester{}, tc.at)
			if d.Action != tc.action || !slices.Equal(d.Flags, tc.flags) {
				t.Fatalf("action %s flags %v", d.Action, d.Flags)
			}
			var refs []string
			for _, p := range d.Policies {
				s := p.ID
				if p.ReviewOverdue {
					s += ":overdue"
				}
				if p.Lapsed {
					s += ":lapsed"
				}
				if p.SHA256 == "" || p.Version != "1" {
					t.Fatalf("ref %+v", p)
				}
				refs = append(refs, s)
			}
			if got := joined(refs); got != tc.refs {
				t.Fatalf("refs %q, want %q", got, tc.refs)
			}
		})
	}
}

func joined(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func resource(t *testing.T, js string) *fhir.Resource {
	t.Helper()
	r, err := fhir.NewResource([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWithhold(t *testing.T) {
	part2 := spec{id: "part2", action: "redact", exception: "privacy.precondition-not-satisfied",
		match: map[string]any{"security_labels": []string{policy.SystemActUSPrivacyLaw + "|42CFRPart2", policy.SystemActCode + "|ETH"}}}
	labs := spec{id: "labs", action: "redact", exception: "infeasibility.segmentation",
		match: map[string]any{"data_classes": []string{"Laboratory"}, "patients": []string{"p1"}}}
	hiA1c := spec{id: "a1c", action: "redact", exception: "preventing-harm.data-quality",
		match: map[string]any{"resource_types": []string{"Observation"},
			"resource_when": "has(resource.valueQuantity) && resource.valueQuantity.value > 14 && resource.code.coding.exists(c, c.code == '4548-4')"}}
	e := New(buildSet(t, part2, labs, hiA1c), Options{})
	d := e.Decide(context.Background(), &fhir.Request{Interaction: fhir.SearchSystem}, &decision.Requester{}, now)
	if d.Action != decision.Redact || d.Withhold == nil || len(d.Redactions) != 3 || !d.Disclose {
		t.Fatalf("decision %+v", d)
	}
	if d.RedactionOf("labs").Duty == nil || d.RedactionOf("part2").Duty != nil {
		t.Fatal("duties: segmentation opens a notice item, privacy does not")
	}
	tests := []struct {
		name, json, want string
	}{
		{"ActCode privacy law", `{"resourceType":"Condition","id":"c1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}}`, "part2"},
		{"USPrivacyLaw", `{"resourceType":"Condition","id":"c1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw","code":"42CFRPart2"}]}}`, "part2"},
		{"deprecated confidentiality ETH", `{"resourceType":"Condition","id":"c1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"ETH"}]}}`, "part2"},
		{"other label", `{"resourceType":"Condition","id":"c1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}}`, ""},
		{"lab of p1", `{"resourceType":"Observation","id":"o1","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"subject":{"reference":"Patient/p1"}}`, "labs"},
		{"lab of p2", `{"resourceType":"Observation","id":"o2","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"subject":{"reference":"Patient/p2"}}`, ""},
		{"vital of p1", `{"resourceType":"Observation","id":"o3","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"subject":{"reference":"Patient/p1"}}`, ""},
		{"CEL over numbers", `{"resourceType":"Observation","id":"o4","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"valueQuantity":{"value":15.2}}`, "a1c"},
		{"CEL integer", `{"resourceType":"Observation","id":"o5","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"valueQuantity":{"value":15}}`, "a1c"},
		{"CEL below", `{"resourceType":"Observation","id":"o6","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"valueQuantity":{"value":6.1}}`, ""},
		{"CEL missing field", `{"resourceType":"Observation","id":"o7","valueQuantity":{"value":20}}`, ""},
		{"type filter first", `{"resourceType":"Condition","id":"o8","code":{"coding":[{"code":"4548-4"}]},"valueQuantity":{"value":20}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, pol := d.Withhold(resource(t, tc.json))
			if w != (tc.want != "") || pol != tc.want {
				t.Fatalf("withhold %v by %q, want %q", w, pol, tc.want)
			}
		})
	}
}

func TestDutyOpensForDeny(t *testing.T) {
	seg := spec{id: "seg", action: "deny", exception: "infeasibility.segmentation"}
	d := New(buildSet(t, seg), Options{}).Decide(context.Background(), read("Patient", "p"), &decision.Requester{}, now)
	if d.Duty == nil || d.Duty.DueAt.Format(time.RFC3339) != "2026-07-18T00:00:00Z" || d.Duty.Exception != "infeasibility.segmentation" {
		t.Fatalf("duty %+v", d.Duty)
	}
	if d.Notice.Message != "msg seg" || d.Notice.Status != 403 {
		t.Fatalf("notice %+v", d.Notice)
	}
}

func TestEmbargo(t *testing.T) {
	emb := spec{id: "emb", action: "delay", exception: "not-interference.patient-requested-delay",
		match: map[string]any{"resource_types": []string{"DiagnosticReport"}, "resource_when": "true"},
		extra: map[string]any{"delay": map[string]any{"form": "embargo", "release_after": "72h", "from": "issued"}}}
	d := New(buildSet(t, emb), Options{}).Decide(context.Background(), read("DiagnosticReport", "r"), &decision.Requester{}, now)
	if d.Action != decision.Delay || d.Delay == nil || d.Delay.Embargoed == nil || d.Delay.ReleaseAfter != 72*time.Hour {
		t.Fatalf("decision %+v", d)
	}
	until, held := d.Delay.Embargoed(resource(t, `{"resourceType":"DiagnosticReport","issued":"2026-07-01T10:00:00Z"}`), now)
	if !held || !until.Equal(time.Date(2026, 7, 4, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("until %s held %v", until, held)
	}
	if _, held := d.Delay.Embargoed(resource(t, `{"resourceType":"DiagnosticReport","issued":"2026-06-01"}`), now); held {
		t.Fatal("an old report is held")
	}
	if _, held := d.Delay.Embargoed(resource(t, `{"resourceType":"Observation","issued":"2026-07-01"}`), now); held {
		t.Fatal("another type is held")
	}
}

func TestSwap(t *testing.T) {
	a := buildSet(t, spec{id: "a", action: "deny", exception: "security.case-determination"})
	e := New(a, Options{})
	if d := e.Decide(context.Background(), read("Patient", "p"), nil, now); d.Action != decision.Deny || d.PolicySet != a.Hash() {
		t.Fatal("first set")
	}
	empty := policy.Empty(a.Catalog())
	e.Swap(empty)
	if d := e.Decide(context.Background(), read("Patient", "p"), nil, now); d.Action != decision.Allow || d.PolicySet != empty.Hash() {
		t.Fatal("swapped set")
	}
	if e.Set() != empty {
		t.Fatal("Set")
	}
}

func TestLabelKeyCase(t *testing.T) {
	part2 := spec{id: "part2", action: "redact", exception: "privacy.precondition-not-satisfied",
		match: map[string]any{"security_labels": []string{policy.SystemActCode + "|ETH"}}}
	d := New(buildSet(t, part2), Options{}).Decide(context.Background(), read("Condition", "c"), nil, now)
	for _, js := range []string{
		`{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]}}`,
		`{"resourceType":"Condition","meta":{"SECURITY":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]}}`,
		`{"resourceType":"Condition","meta":{"versionId":"1","securit\u0079":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]}}`,
	} {
		r := resource(t, js)
		if w, _ := d.Withhold(r); w != hasLabel(r.Security(), map[fhir.Coding]struct{}{{System: policy.SystemActCode, Code: "ETH"}: {}}) {
			t.Errorf("the fast label check disagrees with meta decoding for %s", js)
		}
	}
}
