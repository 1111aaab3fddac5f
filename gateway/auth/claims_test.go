package auth

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ehigate/ehigate/decision"
)

func TestClassAndPurpose(t *testing.T) {
	a := &Authenticator{opts: Options{
		Classes: []ClassRule{
			{Class: decision.ClassPublicHealth, Issuer: "https://state.example"},
			{Class: decision.ClassPayer, ClientID: "payer-app"},
			{Class: decision.ClassPersonalRepresentative, Claims: map[string][]string{"fhirUser": {"RelatedPerson/r1", "RelatedPerson/r2"}}},
			{Class: decision.ClassPatient, Claims: map[string][]string{"scope": {"launch/patient"}}},
			{Class: decision.ClassHIN, Claims: map[string][]string{"org.type": {"qhin"}, "tefca": {"true"}}},
			{Class: decision.ClassResearch, Claims: map[string][]string{"roles": {"researcher"}}},
			{Class: decision.ClassProvider, Claims: map[string][]string{"level": {"2"}}},
		},
		DefaultClass:  decision.ClassApp,
		PurposeClaims: []string{"purpose_of_use", "extensions.ihe_iua.purpose_of_use"},
	}}
	tests := []struct {
		name    string
		issuer  string
		claims  string
		class   decision.Class
		purpose []string
	}{
		{"issuer rule", "https://state.example", `{"client_id":"x"}`, decision.ClassPublicHealth, nil},
		{"client rule", "i", `{"client_id":"payer-app"}`, decision.ClassPayer, nil},
		{"azp as client id", "i", `{"azp":"payer-app"}`, decision.ClassPayer, nil},
		{"claim value among several", "i", `{"fhirUser":"RelatedPerson/r2","scope":"launch/patient"}`, decision.ClassPersonalRepresentative, nil},
		{"scope compared scope by scope", "i", `{"scope":"openid launch/patient patient/*.rs"}`, decision.ClassPatient, nil},
		{"scope needs a whole scope", "i", `{"scope":"launch/patients"}`, decision.ClassApp, nil},
		{"nested claim and boolean", "i", `{"org":{"type":"qhin"},"tefca":true}`, decision.ClassHIN, nil},
		{"one condition fails", "i", `{"org":{"type":"qhin"},"tefca":false}`, decision.ClassApp, nil},
		{"list claim", "i", `{"roles":["staff","researcher"]}`, decision.ClassResearch, nil},
		{"number claim", "i", `{"level":2}`, decision.ClassProvider, nil},
		{"default", "i", `{}`, decision.ClassApp, nil},
		{"purpose string", "i", `{"purpose_of_use":"TREAT ETREAT,TREAT"}`, decision.ClassApp, []string{"TREAT", "ETREAT"}},
		{"purpose codings", "i", `{"purpose_of_use":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}]}`, decision.ClassApp, []string{"HPAYMT"}},
		{"purpose nested concept", "i", `{"extensions":{"ihe_iua":{"purpose_of_use":{"coding":[{"code":"PUBHLTH"}]}}}}`, decision.ClassApp, []string{"PUBHLTH"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c claims
			if err := json.Unmarshal([]byte(tc.claims), &c); err != nil {
				t.Fatal(err)
			}
			who := a.requester(c, tc.issuer, true, "tok")
			if who.Class != tc.class {
				t.Errorf("class %q, want %q", who.Class, tc.class)
			}
			if !reflect.DeepEqual(who.Purpose, tc.purpose) {
				t.Errorf("purpose %q, want %q", who.Purpose, tc.purpose)
			}
		})
	}
}

func TestRequesterPatientMustBeAnID(t *testing.T) {
	a := &Authenticator{}
	who := a.requester(claims{"patient": "../etc"}, "i", true, "t")
	if who.Patient != "" {
		t.Errorf("patient %q kept", who.Patient)
	}
}
