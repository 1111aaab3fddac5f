package policy

import (
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// Code systems of security labels.
const (
	SystemActCode         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	SystemActUSPrivacyLaw = "http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw"
	SystemConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
)

// privacyLawCodes exist in both v3-ActCode (_ActUSPrivacyLaw) and
// v3-ActUSPrivacyLaw; R4's value set draws on the latter, DS4P examples use
// the former.
var privacyLawCodes = map[string]bool{
	"42CFRPart2": true, "CommonRule": true, "HIPAANOPP": true, "HIPAAPsyNotes": true,
	"HIPAASelfPay": true, "Title38Section7332": true,
}

// movedSensitivityCodes are sensitivity codes that older data carries in
// v3-Confidentiality (deprecated there) and current data in v3-ActCode.
var movedSensitivityCodes = map[string]bool{"ETH": true, "HIV": true, "PSY": true, "SDV": true}

// parseLabel splits "system|code".
func parseLabel(s string) (fhir.Coding, bool) {
	sys, code, ok := strings.Cut(s, "|")
	if !ok || sys == "" || code == "" || strings.Contains(code, "|") ||
		strings.TrimSpace(sys) != sys || strings.TrimSpace(code) != code {
		return fhir.Coding{}, false
	}
	return fhir.Coding{System: sys, Code: code}, true
}

// labelSet returns the codings to match for labels, adding each code's
// other system where it exists in two.
func labelSet(labels []fhir.Coding) map[fhir.Coding]struct{} {
	if len(labels) == 0 {
		return nil
	}
	m := make(map[fhir.Coding]struct{}, 2*len(labels))
	for _, c := range labels {
		m[c] = struct{}{}
		switch {
		case privacyLawCodes[c.Code] && (c.System == SystemActCode || c.System == SystemActUSPrivacyLaw):
			m[fhir.Coding{System: SystemActCode, Code: c.Code}] = struct{}{}
			m[fhir.Coding{System: SystemActUSPrivacyLaw, Code: c.Code}] = struct{}{}
		case movedSensitivityCodes[c.Code] && (c.System == SystemActCode || c.System == SystemConfidentiality):
			m[fhir.Coding{System: SystemActCode, Code: c.Code}] = struct{}{}
			m[fhir.Coding{System: SystemConfidentiality, Code: c.Code}] = struct{}{}
		}
	}
	return m
}
