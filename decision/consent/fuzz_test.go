package consent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/fhirdata"
)

// FuzzParse feeds arbitrary bytes (Consents fetched from the upstream are
// untrusted) to Parse, and evaluates what loads: no panic, every problem
// located, and a loaded Consent evaluates deterministically.
func FuzzParse(f *testing.F) {
	if d, ok := fhirdata.Lookup(); ok {
		files, _ := filepath.Glob(filepath.Join(d, "r4-examples", "Consent-*.json"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01",
		"provision":{"type":"permit","provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}],
		"provision":[{"data":[{"meaning":"related","reference":{"reference":"Task/t"}}]}]}]}}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Consent"}}]}`))
	resources := []string{
		`{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p"},"performer":[{"reference":"Organization/f001"}],"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}`,
		`{"resourceType":"Task","id":"t","for":{"reference":"Patient/p"}}`,
	}
	who := &decision.Requester{ClientID: "c", FHIRUser: "Practitioner/f204", Purpose: []string{"ETREAT"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := Parse("fuzz.json", b, false)
		for _, pr := range p.Problems {
			if pr.File != "fuzz.json" || pr.Msg == "" {
				t.Fatalf("problem without a location: %+v", pr)
			}
		}
		if len(p.Consents) == 0 {
			return
		}
		set := NewSet(p.Consents, Options{})
		set.MayDeny(who)
		for _, c := range p.Consents {
			set.DeniesAll(c.Patient, who, now, false)
			for _, js := range resources {
				r, err := fhir.NewResource([]byte(js))
				if err != nil {
					t.Fatal(err)
				}
				if c.Denies(set, r, who, now, false) != c.Denies(set, r, who, now, false) {
					t.Fatal("not deterministic")
				}
			}
		}
	})
}
