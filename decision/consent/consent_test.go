package consent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/fhirdata"
)

var now = time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC)

// loadExamples parses every R4 Consent example.
func loadExamples(t *testing.T) map[string]Parsed {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fhirdata.Dir(t), "r4-examples", "Consent-*.json"))
	if err != nil || len(files) == 0 {
		t.Skip("no R4 Consent examples in the shared FHIR data")
	}
	out := map[string]Parsed{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Consent-"), ".json")
		out[id] = Parse(filepath.Base(f), b, false)
	}
	return out
}

func TestExamplesParse(t *testing.T) {
	ex := loadExamples(t)
	if len(ex) < 12 {
		t.Fatalf("%d Consent examples, want the 12 of R4", len(ex))
	}
	// Which examples carry a provision that can deny, and so load.
	enforced := map[string]bool{
		"consent-example-notOrg": true, "consent-example-Out": true, "consent-example-Emergency": true,
		"consent-example-grantor": true, "consent-example-pkb": true,
	}
	for id, p := range ex {
		t.Run(id, func(t *testing.T) {
			if len(p.Problems) > 0 {
				t.Fatalf("problems: %v", p.Problems)
			}
			if got := len(p.Consents) == 1; got != enforced[id] {
				t.Fatalf("loaded %v, want %v (skipped %+v)", got, enforced[id], p.Skipped)
			}
			if len(p.Consents)+len(p.Skipped) != 1 {
				t.Fatalf("consents %d skipped %d", len(p.Consents), len(p.Skipped))
			}
			if len(p.Consents) == 1 {
				c := p.Consents[0]
				if c.ID != id || c.Patient == "" || c.DateTime.IsZero() || len(c.SHA256) != 64 || c.Ref() != "Consent/"+id {
					t.Fatalf("consent %+v", c)
				}
			}
		})
	}
}

func res(t *testing.T, js string) *fhir.Resource {
	t.Helper()
	r, err := fhir.NewResource([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExampleDenyProvisions evaluates the examples' deny provisions for
// requesters and resources, through the Set as the engine uses it.
func TestExampleDenyProvisions(t *testing.T) {
	ex := loadExamples(t)
	var all []*Consent
	for _, p := range ex {
		all = append(all, p.Consents...)
	}
	set := NewSet(all, Options{Actors: map[string]ActorMatch{
		"Organization/f001": {ClientIDs: []string{"good-health"}},
	}})
	goodHealth := &decision.Requester{ClientID: "good-health", Class: decision.ClassProvider}
	nurse := &decision.Requester{FHIRUser: "https://ehr.example/fhir/Practitioner/f204", ClientID: "ehr"}
	app := &decision.Requester{ClientID: "other-app", Class: decision.ClassApp}
	er := &decision.Requester{ClientID: "ed-app", Purpose: []string{"ETREAT"}}
	patient := &decision.Requester{Class: decision.ClassPatient, Patient: "f001", FHIRUser: "Patient/f001"}
	grantee := &decision.Requester{FHIRUser: "Patient/example"}

	plain := `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/f001"}}`
	fromF001 := `{"resourceType":"Observation","id":"o2","subject":{"reference":"Patient/f001"},"performer":[{"reference":"Organization/f001"}]}`
	tests := []struct {
		name      string
		consent   string
		who       *decision.Requester
		write     bool
		resource  string
		deniesAll bool
		withheld  bool
	}{
		{"notOrg: the organization may not access", "consent-example-notOrg", goodHealth, false, plain, true, true},
		{"notOrg: nor correct", "consent-example-notOrg", goodHealth, true, plain, true, true},
		{"notOrg: another app may", "consent-example-notOrg", app, false, plain, false, false},
		{"notOrg: the patient may", "consent-example-notOrg", &decision.Requester{Class: decision.ClassPatient, Patient: "f001", ClientID: "good-health"}, false, plain, false, false},
		{"Out: data from Good Health is withheld from anyone", "consent-example-Out", app, false, fromF001, false, true},
		{"Out: other data is not", "consent-example-Out", app, false, plain, false, false},
		{"Out: not from the patient", "consent-example-Out", patient, false, fromF001, false, false},
		{"Emergency: Good Health data for emergency treatment", "consent-example-Emergency", er, false, fromF001, false, true},
		{"Emergency: other purposes are outside it", "consent-example-Emergency", nurse, false, fromF001, false, false},
		{"grantor: the named recipient, data from Good Health", "consent-example-grantor", grantee, false, fromF001, false, true},
		{"grantor: the named recipient may write (access only)", "consent-example-grantor", grantee, true, fromF001, false, false},
		{"grantor: others are outside it", "consent-example-grantor", app, false, fromF001, false, false},
		{"pkb: normal data stays shared with Good Health", "consent-example-pkb", goodHealth, false,
			`{"resourceType":"Condition","id":"c1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"subject":{"reference":"Patient/example"}}`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := set.Lookup("Consent/" + tc.consent)
			if !ok {
				t.Fatalf("%s not loaded", tc.consent)
			}
			if got := set.DeniesAll(c.Patient, tc.who, now, tc.write) != nil; got != tc.deniesAll {
				t.Fatalf("denies all: %v, want %v", got, tc.deniesAll)
			}
			r := res(t, tc.resource)
			if got := c.Denies(set, r, tc.who, now, tc.write); got != tc.withheld {
				t.Fatalf("withheld: %v, want %v", got, tc.withheld)
			}
			if tc.withheld && !set.MayDeny(tc.who) {
				t.Fatal("MayDeny is false for a requester a Consent denies")
			}
		})
	}
}

// TestProvisions covers each criterion with the do-not-share example of
// the reference (root permit, one nested deny).
func TestProvisions(t *testing.T) {
	const doNotShare = `{"resourceType":"Consent","id":"c1","meta":{"versionId":"3"},"status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "patient":{"reference":"Patient/123"},"dateTime":"2025-01-10",
 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
 "provision":{"type":"permit",
   "provision":[{"type":"deny",
     "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
               "reference":{"reference":"Organization/acme-app"}},
              {"role":{"coding":[{"code":"IRCP"}]},"reference":{"identifier":{"system":"https://ehigate.dev/fhir/sid/requester-class","value":"payer"}}}],
     "action":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentaction","code":"disclose"}]}],
     "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}],
     "class":[{"system":"http://hl7.org/fhir/resource-types","code":"DocumentReference"}],
     "dataPeriod":{"start":"2020-01-01"},
     "period":{"end":"2030-12-31"},
     "provision":[{"code":[{"coding":[{"system":"http://loinc.org","code":"11506-3"}]}]}]}]}}`
	p := Parse("c1.json", []byte(doNotShare), false)
	if len(p.Problems) > 0 || len(p.Consents) != 1 {
		t.Fatalf("%v %+v", p.Problems, p.Skipped)
	}
	c := p.Consents[0]
	if c.Ref() != "Consent/c1/_history/3" || c.PolicyRef(decision.Redact).Consent != "Consent/c1/_history/3" || c.PolicyRef(decision.Redact).Version != "3" {
		t.Fatalf("refs %s %+v", c.Ref(), c.PolicyRef(decision.Redact))
	}
	set := NewSet(p.Consents, Options{Actors: map[string]ActorMatch{"Organization/acme-app": {ClientIDs: []string{"acme"}}}})
	acme := &decision.Requester{ClientID: "acme", Class: decision.ClassApp}
	payer := &decision.Requester{ClientID: "payer-1", Class: decision.ClassPayer}
	other := &decision.Requester{ClientID: "other", Class: decision.ClassApp}
	psyDoc := func(extra string) string {
		return `{"resourceType":"DocumentReference","id":"d1","subject":{"reference":"Patient/123"},"date":"2024-03-01T10:00:00Z",
			"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}` + extra + `}`
	}
	tests := []struct {
		name     string
		who      *decision.Requester
		at       time.Time
		write    bool
		resource string
		want     bool
	}{
		{"all criteria hold", acme, now, false, psyDoc(""), true},
		{"by requester class identifier", payer, now, false, psyDoc(""), true},
		{"another requester", other, now, false, psyDoc(""), false},
		{"a write is not a disclosure", acme, now, true, psyDoc(""), false},
		{"after the period", acme, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), false, psyDoc(""), false},
		{"on the period's last day", acme, time.Date(2030, 12, 31, 23, 0, 0, 0, time.UTC), false, psyDoc(""), true},
		{"without the label", acme, now, false, `{"resourceType":"DocumentReference","id":"d2","date":"2024-03-01"}`, false},
		{"the ActUSPrivacyLaw system is not ActCode's PSY", acme, now, false,
			`{"resourceType":"DocumentReference","id":"d3","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"PSY"}]}}`, false},
		{"another class", acme, now, false, `{"resourceType":"Observation","id":"o1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}`, false},
		{"data before dataPeriod", acme, now, false, strings.Replace(psyDoc(""), "2024-03-01", "2019-06-01", 1), false},
		{"no clinical date: dataPeriod holds", acme, now, false, strings.Replace(psyDoc(""), `"date":"2024-03-01T10:00:00Z",`, "", 1), true},
		{"nested permit: progress notes are shared", acme, now, false,
			psyDoc(`,"type":{"coding":[{"system":"http://loinc.org","code":"11506-3"}]}`), false},
		{"nested permit needs its code's system", acme, now, false,
			psyDoc(`,"type":{"coding":[{"system":"http://example.org","code":"11506-3"}]}`), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := res(t, tc.resource)
			if got := c.Denies(set, r, tc.who, tc.at, tc.write); got != tc.want {
				t.Fatalf("denied %v, want %v", got, tc.want)
			}
			if got := set.Withhold(r, []string{"123"}, tc.who, tc.at, tc.write) != nil; got != tc.want {
				t.Fatalf("Set.Withhold %v, want %v", got, tc.want)
			}
		})
	}
	if set.DeniesAll("123", acme, now, false) != nil {
		t.Fatal("a Consent with resource criteria denies everything")
	}
	if !set.MayDeny(acme) || !set.MayDeny(payer) || set.MayDeny(other) {
		t.Fatal("MayDeny index")
	}
}

func TestDataAndSources(t *testing.T) {
	const js = `{"resourceType":"Consent","id":"c2","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-02T10:00:00Z",
	 "policyRule":{"coding":[{"code":"OPTIN"}]},
	 "provision":{"provision":[
	   {"data":[{"meaning":"related","reference":{"reference":"ServiceRequest/lab-1"}}]},
	   {"type":"deny","actor":[{"role":{"coding":[{"code":"AUT"}]},"reference":{"reference":"Practitioner/ex"}}]},
	   {"type":"deny","class":[{"system":"urn:ietf:bcp:13","code":"application/pdf"}]}]}}`
	p := Parse("c2.json", []byte(js), false)
	if len(p.Problems) > 0 || len(p.Consents) != 1 {
		t.Fatalf("%v %+v", p.Problems, p.Skipped)
	}
	c := p.Consents[0]
	set := NewSet(p.Consents, Options{})
	who := &decision.Requester{ClientID: "any"}
	tests := []struct {
		name, resource string
		want           bool
	}{
		{"the order itself (nested provision without type: deny under a permit)", `{"resourceType":"ServiceRequest","id":"lab-1"}`, true},
		{"a result based on it", `{"resourceType":"Observation","id":"o","basedOn":[{"reference":"ServiceRequest/lab-1"}]}`, true},
		{"an unrelated result", `{"resourceType":"Observation","id":"o","basedOn":[{"reference":"ServiceRequest/lab-2"}]}`, false},
		{"authored by the named practitioner", `{"resourceType":"DocumentReference","id":"d","author":[{"reference":"https://ehr/fhir/Practitioner/ex"}]}`, true},
		{"the id only in text", `{"resourceType":"DocumentReference","id":"d","description":"Practitioner/ex"}`, false},
		{"a PDF attachment", `{"resourceType":"DocumentReference","id":"d","content":[{"attachment":{"contentType":"application/pdf"}}]}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Denies(set, res(t, tc.resource), who, now, false); got != tc.want {
				t.Fatalf("denied %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInvalidConsents(t *testing.T) {
	tests := []struct {
		name, json, pointer string
	}{
		{"not JSON", `{`, ""},
		{"another resource", `{"resourceType":"Patient","id":"p"}`, "/resourceType"},
		{"no id", `{"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01"}`, "/id"},
		{"bad status", `{"resourceType":"Consent","id":"c","status":"on","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01"}`, "/status"},
		{"patient not a Patient", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Group/g"},"dateTime":"2026-01-01"}`, "/patient/reference"},
		{"no dateTime", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"}}`, "/dateTime"},
		{"bad provision type", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01",
			"provision":{"provision":[{"type":"maybe"}]}}`, "/provision/provision/0/type"},
		{"actor without role", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01",
			"provision":{"type":"deny","actor":[{"reference":{"reference":"Organization/o"}}]}}`, "/provision/actor/0/role"},
		{"unknown action", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01",
			"provision":{"type":"deny","action":[{"coding":[{"code":"delete"}]}]}}`, "/provision/action/0/coding"},
		{"unsupported class", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01",
			"provision":{"type":"deny","class":[{"system":"http://example.org/classes","code":"x"}]}}`, "/provision/class/0/system"},
		{"period backwards", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01",
			"provision":{"type":"deny","period":{"start":"2026-02-01","end":"2026-01-01"}}}`, "/provision/period"},
		{"in a Bundle", `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient"}},
			{"resource":{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01","provision":{"type":"deny","dataPeriod":{"start":"x"}}}}]}`,
			"/entry/1/resource/provision/dataPeriod/start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Parse("f.json", []byte(tc.json), false)
			if len(p.Consents) != 0 || len(p.Problems) == 0 {
				t.Fatalf("loaded %d, problems %v", len(p.Consents), p.Problems)
			}
			found := false
			for _, pr := range p.Problems {
				found = found || (pr.File == "f.json" && pr.Path == tc.pointer)
			}
			if !found {
				t.Fatalf("no problem at %q: %v", tc.pointer, p.Problems)
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	for _, tc := range []struct{ name, json, reason string }{
		{"inactive", `{"resourceType":"Consent","id":"c","status":"inactive","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01","provision":{"type":"deny"}}`, "status inactive"},
		{"research", `{"resourceType":"Consent","id":"c","status":"active","scope":{"coding":[{"code":"research"}]},"patient":{"reference":"Patient/p"},"dateTime":"2026-01-01","provision":{"type":"deny"}}`, "scope research"},
		{"nothing denies", `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01","policyRule":{"coding":[{"code":"OPTIN"}]}}`, "no provision denies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Parse("f.json", []byte(tc.json), false)
			if len(p.Problems) > 0 || len(p.Consents) > 0 || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0].Reason, tc.reason) {
				t.Fatalf("%+v", p)
			}
		})
	}
	// OPTOUT without provisions denies everything to everyone but the patient.
	p := Parse("f.json", []byte(`{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01","policyRule":{"coding":[{"code":"OPTOUT"}]}}`), false)
	if len(p.Consents) != 1 {
		t.Fatalf("%+v", p)
	}
	set := NewSet(p.Consents, Options{})
	if set.DeniesAll("p", &decision.Requester{ClientID: "x"}, now, false) == nil || set.DeniesAll("p", &decision.Requester{FHIRUser: "Patient/p"}, now, false) != nil {
		t.Fatal("OPTOUT")
	}
}

func TestLoadFolders(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.json", `{"resourceType":"Consent","id":"a","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01","provision":{"type":"deny"}}`)
	write("b.json", `{"resourceType":"Patient","id":"p"}`)
	write("policy.yaml", "policies: []\n")
	write("c.json", `{"resourceType":"Consent","id":"c","status":"active"}`)
	p := Load([]string{dir, filepath.Join(dir, "missing.json")})
	if len(p.Consents) != 1 || p.Consents[0].ID != "a" {
		t.Fatalf("consents %+v", p.Consents)
	}
	files := map[string]bool{}
	for _, pr := range p.Problems {
		files[filepath.Base(pr.File)] = true
	}
	if !files["c.json"] || !files["missing.json"] || files["b.json"] || files["policy.yaml"] {
		t.Fatalf("problems %v", p.Problems)
	}
}
