package smart

import "github.com/ehigate/ehigate/fhir"

// narrowParam returns the search parameter that limits a search of type t
// to patient p ("name=value", query-ready: ids need no escaping), or ""
// when t has none. It is the patient parameter where t has one (a subset
// of the compartment: subject-like links only, which is safe), _id for
// Patient, and otherwise t's first compartment parameter with a typed
// reference.
func narrowParam(t, p string) string {
	if t == "Patient" {
		return "_id=" + p
	}
	for _, rp := range fhir.PatientRefParams(t) {
		if rp.Param == "patient" {
			return "patient=Patient/" + p
		}
	}
	if cps := fhir.CompartmentParams(t); len(cps) > 0 {
		return cps[0].Param + "=Patient/" + p
	}
	return ""
}

// patientLinked reports whether resources of type t belong to a patient:
// Patient itself, the types of the Patient compartment, and those with a
// patient search parameter outside it (Device, Task, Contract, ...).
func patientLinked(t string) bool {
	if t == "Patient" || fhir.CompartmentParams(t) != nil {
		return true
	}
	for _, rp := range fhir.PatientRefParams(t) {
		if rp.Param == "patient" {
			return true
		}
	}
	return false
}
