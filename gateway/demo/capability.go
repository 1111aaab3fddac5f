package demo

import (
	"net/http"
	"slices"

	"github.com/ehigate/ehigate/fhir"
)

// typeTokens lists the token search parameters advertised per type (the
// server evaluates them on any type that has the element).
var typeTokens = map[string][]string{
	"AllergyIntolerance": {"category", "clinical-status", "code"},
	"CarePlan":           {"category", "status"},
	"Condition":          {"category", "clinical-status", "code"},
	"Coverage":           {"identifier", "status"},
	"DiagnosticReport":   {"category", "code", "status"},
	"DocumentReference":  {"category", "identifier", "status"},
	"Encounter":          {"identifier", "status"},
	"Immunization":       {"status"},
	"MedicationRequest":  {"category", "code", "status"},
	"Observation":        {"category", "code", "identifier", "status"},
	"Organization":       {"identifier"},
	"Patient":            {"gender", "identifier"},
	"Practitioner":       {"identifier"},
	"Procedure":          {"category", "code", "status"},
}

func param(name, typ string) obj { return obj{{"name", name}, {"type", typ}} }

func operation(name, def string) obj { return obj{{"name", name}, {"definition", def}} }

func interactions(codes ...string) []obj {
	out := make([]obj, len(codes))
	for i, c := range codes {
		out[i] = obj{{"code", c}}
	}
	return out
}

// capabilities answers GET [base]/metadata.
func (c *call) capabilities() error {
	var resources []obj
	for _, t := range fhir.ResourceTypes() {
		params := []obj{param("_id", "token"), param("_lastUpdated", "date"), param("_security", "token"), param("_tag", "token")}
		var includes []string
		for _, name := range refParamNames(t) {
			params = append(params, param(name, "reference"))
			includes = append(includes, t+":"+name)
		}
		for _, name := range typeTokens[t] {
			params = append(params, param(name, "token"))
		}
		var ops []obj
		switch t {
		case "Patient":
			ops = []obj{
				operation("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything"),
				operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"),
			}
		case "Group":
			ops = []obj{operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export")}
		}
		ops = append(ops,
			operation("validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate"),
			operation("meta", "http://hl7.org/fhir/OperationDefinition/Resource-meta"))
		r := obj{
			{"type", t},
			{"interaction", interactions("read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type")},
			{"versioning", "versioned-update"},
			{"readHistory", true},
			{"updateCreate", true},
			{"conditionalCreate", true},
			{"conditionalRead", "full-support"},
			{"conditionalUpdate", true},
			{"conditionalDelete", "single"},
			{"searchInclude", nilIfEmpty(includes)},
			{"searchParam", params},
			{"operation", ops},
		}
		resources = append(resources, r)
	}
	cs := obj{
		{"resourceType", "CapabilityStatement"},
		{"status", "active"},
		{"date", c.s.now().Format(instantLayout)},
		{"publisher", "ehigate"},
		{"kind", "instance"},
		{"instantiates", []string{"http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"}},
		{"software", obj{{"name", "ehigate demo EHR"}}},
		{"implementation", obj{{"description", "In-memory FHIR R4 server for ehigate demos and tests"}, {"url", c.base}}},
		{"fhirVersion", "4.0.1"},
		{"format", []string{"json", "application/fhir+json"}},
		{"patchFormat", []string{jsonPatch}},
		{"rest", []obj{{
			{"mode", "server"},
			{"resource", resources},
			{"interaction", interactions("transaction", "batch", "search-system", "history-system")},
			{"searchParam", []obj{
				param("_id", "token"), param("_lastUpdated", "date"), param("_security", "token"),
				param("_tag", "token"), param("_type", "token"),
			}},
			{"operation", []obj{
				operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"),
				operation("meta", "http://hl7.org/fhir/OperationDefinition/Resource-meta"),
			}},
		}}},
	}
	b, err := marshal(cs)
	if err != nil {
		return err
	}
	c.send(http.StatusOK, b)
	return nil
}

// refParamNames lists the reference search parameters of typ: its Patient
// compartment parameters and the aliases refParam accepts.
func refParamNames(typ string) []string {
	var out []string
	for _, p := range fhir.CompartmentParams(typ) {
		out = append(out, p.Param)
	}
	for _, alias := range []string{"patient", "subject"} {
		if _, _, ok := refParam(typ, alias); ok {
			out = append(out, alias)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func nilIfEmpty(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return s
}
