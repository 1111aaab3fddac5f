package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// FuzzEvents builds events from records whose request-derived fields
// (path, ids, types, requester claims, reasons) are arbitrary, as they
// are when they come from untrusted requests and tokens: every event must
// be valid R4 and have a valid, deterministic id.
func FuzzEvents(f *testing.F) {
	for _, tc := range cases {
		r := tc.rec
		patient, consent, code := "", "", ""
		if len(r.Patients) > 0 {
			patient = r.Patients[0]
		}
		for _, p := range r.Policies {
			consent = p.Consent
		}
		if r.Exception != nil {
			code = r.Exception.Code
		}
		purpose := strings.Join(r.Requester.Purpose, ",")
		f.Add(r.ID, uint8(r.Action), r.Interaction, r.Path, r.ResourceType, r.ResourceID, patient, r.Requester.Subject,
			r.Requester.ClientID, r.Requester.Issuer, r.Requester.FHIRUser, purpose, r.Requester.Addr, r.Reason, consent, code, r.Status)
	}
	f.Add("", uint8(9), "", "", "", "", "a b", "\x00", "\xff", "https://a b", "Person/1", " TREAT,", "::1", "\n", "Consent/../x", " x", -1)
	f.Fuzz(func(t *testing.T, id string, action uint8, interaction, path, typ, rid, patient, sub, client, iss, fhirUser, purpose, addr, reason, consent, code string, status int) {
		r := record(func(r *decision.Record) {
			r.ID, r.Action, r.Interaction, r.Path, r.ResourceType, r.ResourceID = id, decision.Action(action%6), interaction, path, typ, rid
			r.Patients = nil
			if patient != "" {
				r.Patients = []string{patient, patient + "x"}
			}
			r.Requester = decision.Requester{Subject: sub, ClientID: client, Issuer: iss, FHIRUser: fhirUser, Purpose: strings.Split(purpose, ","),
				Addr: addr, Class: decision.Class(sub)}
			r.Reason, r.Status = reason, status
			r.Exception = &decision.ExceptionRef{Code: code, CFR: reason, CatalogVersion: iss}
			r.Policies = []decision.PolicyRef{{ID: sub, Version: client, SHA256: reason, Action: r.Action, Exception: code, Consent: consent}}
			r.Withheld = []decision.Withheld{{Type: typ, Count: 1}}
		})
		b := NewBuilder(Options{Server: iss, Name: client})
		evs := b.Events(r)
		ids := EventIDs(r)
		if len(evs) != len(ids) {
			t.Fatalf("%d events, %d ids", len(evs), len(ids))
		}
		for i := range evs {
			if !fhir.ValidID(evs[i].ID) || evs[i].ID != ids[i] {
				t.Fatalf("id %q (EventIDs %q)", evs[i].ID, ids[i])
			}
			raw, err := json.Marshal(&evs[i])
			if err != nil {
				t.Fatal(err)
			}
			validR4(t, raw)
		}
	})
}
