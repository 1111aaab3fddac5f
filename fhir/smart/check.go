package smart

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// Check decides whether one resource of a response may be released. It is
// released when some usable scope that allows reading or searching covers
// its type, meets every constraint of that scope and, for a patient/
// scope, finds the resource in the launch patient's compartment: for the
// types of the Patient compartment, the patient is among the resource's
// compartment patients (fhir.Resource.Patients); other types are released
// unless they reference another Patient. OperationOutcomes, Parameters and
// search outcome entries are always released; a Bundle kept whole (a
// document, or one nested too deep to be filtered entry by entry) is
// released by any unconstrained reading scope, with the same patient rule.
// Check returns "" when the resource is released, ReasonWrongPatient when
// only the compartment rule kept it back, ReasonOutOfScope otherwise.
func (g *Grant) Check(r *fhir.Resource) Reason {
	if g.full || r.Mode == "outcome" {
		return ""
	}
	switch r.Type {
	case "OperationOutcome", "Parameters":
		return ""
	}
	reason := ReasonOutOfScope
	in := -1 // whether r is the launch patient's, decided on first need
	for i := range g.Scopes {
		s := &g.Scopes[i]
		if s.Perms&(Read|Search) == 0 || !g.usable(s) {
			continue
		}
		if r.Type == "Bundle" {
			if len(s.Constraints) > 0 {
				continue
			}
		} else if !s.Covers(r.Type) || !meetsAll(r, s.Constraints) {
			continue
		}
		if s.Context != ContextPatient {
			return ""
		}
		if in < 0 {
			in = 0
			if g.patients(r) {
				in = 1
			}
		}
		if in == 1 {
			return ""
		}
		reason = ReasonWrongPatient
	}
	return reason
}

// patients reports whether r is in the launch patient's compartment or,
// for types outside it, references no other Patient.
func (g *Grant) patients(r *fhir.Resource) bool {
	if r.Type == "Patient" || fhir.CompartmentParams(r.Type) != nil {
		return slices.Contains(r.Patients(), g.Patient)
	}
	if r.Type == "Binary" {
		var sc struct {
			Reference string `json:"reference"`
		}
		if !r.Member("securityContext", &sc) {
			return true
		}
		id, ok := fhir.PatientID(sc.Reference)
		return !ok || id == g.Patient
	}
	tree, err := r.Tree()
	if err != nil {
		return false
	}
	return !refersToOther(tree, g.Patient)
}

// refersToOther reports whether a Reference below v names a Patient other
// than p.
func refersToOther(v any, p string) bool {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if refersToOther(e, p) {
				return true
			}
		}
	case map[string]any:
		if ref, ok := t["reference"].(string); ok {
			if id, ok := fhir.PatientID(ref); ok && id != p {
				return true
			}
		}
		for _, e := range t {
			if refersToOther(e, p) {
				return true
			}
		}
	}
	return false
}

// tokenElements maps the token search parameters a granular scope may
// constrain to the element they read, for every resource type that has
// them (category, code, status, ...). A constraint on any other parameter
// is never met: the scope then releases nothing, which fails closed.
var tokenElements = map[string]string{
	"category":            "category",
	"code":                "code",
	"status":              "status",
	"type":                "type",
	"class":               "class",
	"intent":              "intent",
	"priority":            "priority",
	"clinical-status":     "clinicalStatus",
	"verification-status": "verificationStatus",
}

func meetsAll(r *fhir.Resource, cs []Constraint) bool {
	for i := range cs {
		if !meets(r, &cs[i]) {
			return false
		}
	}
	return true
}

// meets reports whether r meets one constraint.
func meets(r *fhir.Resource, c *Constraint) bool {
	switch c.Param {
	case "_id":
		return slices.Contains(c.Values, r.ID)
	case "_security":
		return anyCoding(r.Security(), c.Values)
	case "_tag":
		return anyCoding(r.Tags(), c.Values)
	}
	elem, ok := tokenElements[c.Param]
	if !ok {
		return false
	}
	raw, ok := r.Get(elem)
	if !ok {
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	return tokenIn(v, c.Values)
}

func anyCoding(cs []fhir.Coding, values []string) bool {
	for _, c := range cs {
		for _, v := range values {
			if tokenMatch(c.System, c.Code, v) {
				return true
			}
		}
	}
	return false
}

// tokenIn reports whether a token element (a code, a Coding, a
// CodeableConcept, or a list of them) matches one of values.
func tokenIn(v any, values []string) bool {
	switch t := v.(type) {
	case string:
		for _, val := range values {
			if tokenMatch("", t, val) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if tokenIn(e, values) {
				return true
			}
		}
	case map[string]any:
		if cs, ok := t["coding"]; ok {
			return tokenIn(cs, values)
		}
		code, _ := t["code"].(string)
		if code == "" {
			return false
		}
		system, _ := t["system"].(string)
		for _, val := range values {
			if tokenMatch(system, code, val) {
				return true
			}
		}
	}
	return false
}

// tokenMatch applies FHIR token search semantics: "code" (any system),
// "system|code", "|code" (no system) and "system|" (any code of system).
func tokenMatch(system, code, value string) bool {
	vs, vc, piped := strings.Cut(value, "|")
	switch {
	case !piped:
		return code == value
	case vs == "":
		return system == "" && code == vc
	case vc == "":
		return system == vs
	}
	return system == vs && code == vc
}
