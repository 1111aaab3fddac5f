package fhir

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// classified is the part of a Request the classification table compares.
type classified struct {
	It          Interaction
	Level       Level
	Type        string
	ID          string
	Version     string
	Op          string
	Compartment Compartment
	Conditional bool
	Patients    []string
	Classes     []string
	Format      Format
	BodyFormat  Format
	Async       bool
	NeedsBody   bool
}

func project(r *Request) classified {
	return classified{
		It: r.Interaction, Level: r.Level, Type: r.ResourceType, ID: r.ID, Version: r.VersionID,
		Op: r.Operation, Compartment: r.Compartment, Conditional: r.Conditional,
		Patients: r.Patients, Classes: r.DataClasses, Format: r.Format, BodyFormat: r.BodyFormat,
		Async: r.Async, NeedsBody: r.NeedsBody,
	}
}

func (c classified) equal(o classified) bool {
	return c.It == o.It && c.Level == o.Level && c.Type == o.Type && c.ID == o.ID &&
		c.Version == o.Version && c.Op == o.Op && c.Compartment == o.Compartment &&
		c.Conditional == o.Conditional && sameStrings(c.Patients, o.Patients) &&
		sameStrings(c.Classes, o.Classes) && c.Format == o.Format && c.BodyFormat == o.BodyFormat &&
		c.Async == o.Async && c.NeedsBody == o.NeedsBody
}

// hdr builds headers from name, value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var (
	obsClasses  = []string{DataClassClinicalTests, DataClassDiagnosticImaging, DataClassGoals, DataClassHealthStatus, DataClassLaboratory, DataClassPatientDemographic, DataClassVitalSigns}
	patClasses  = []string{DataClassPatientDemographic}
	allClassesN = DataClassNames()
)

func TestClassify(t *testing.T) {
	c := NewClassifier(ClassifierOptions{})
	for _, tc := range []struct {
		name, method, path, query string
		h                         http.Header
		want                      classified
	}{
		// Capabilities and SMART.
		{"capabilities", "GET", "metadata", "", nil, classified{It: Capabilities}},
		{"capabilities mode", "GET", "metadata", "mode=full", nil, classified{It: Capabilities}},
		{"smart configuration", "GET", ".well-known/smart-configuration", "", nil, classified{It: SmartConfiguration}},
		// Instance interactions.
		{"read", "GET", "Patient/1", "", nil, classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses}},
		{"read head", "HEAD", "Patient/1", "", nil, classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses}},
		{"read observation", "GET", "Observation/o-1", "", nil, classified{It: Read, Type: "Observation", ID: "o-1", Classes: obsClasses}},
		{"read organization", "GET", "Organization/x", "", nil, classified{It: Read, Type: "Organization", ID: "x"}},
		{"read escaped id", "GET", "Patient/a%2Db", "", nil, classified{It: Read, Type: "Patient", ID: "a-b", Patients: []string{"a-b"}, Classes: patClasses}},
		{"vread", "GET", "Patient/1/_history/2", "", nil, classified{It: VRead, Type: "Patient", ID: "1", Version: "2", Patients: []string{"1"}, Classes: patClasses}},
		{"update", "PUT", "Patient/1", "", hdr("Content-Type", "application/fhir+json"), classified{It: Update, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatJSON, BodyFormat: FormatJSON, NeedsBody: true}},
		{"conditional update", "PUT", "Observation", "patient=1&code=x", nil, classified{It: Update, Type: "Observation", Conditional: true, Patients: []string{"1"}, Classes: obsClasses, NeedsBody: true}},
		{"patch json", "PATCH", "Observation/o1", "", hdr("Content-Type", "application/json-patch+json"), classified{It: Patch, Type: "Observation", ID: "o1", Classes: obsClasses, Format: FormatJSON, BodyFormat: FormatJSON, NeedsBody: true}},
		{"patch fhirpath", "PATCH", "Patient/1", "", hdr("Content-Type", "application/fhir+json"), classified{It: Patch, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatJSON, BodyFormat: FormatJSON, NeedsBody: true}},
		{"conditional patch", "PATCH", "Observation", "subject=Patient/2", nil, classified{It: Patch, Type: "Observation", Conditional: true, Patients: []string{"2"}, Classes: obsClasses, NeedsBody: true}},
		{"delete", "DELETE", "Patient/1", "", nil, classified{It: Delete, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses}},
		{"conditional delete", "DELETE", "Observation", "patient=1", nil, classified{It: Delete, Type: "Observation", Conditional: true, Patients: []string{"1"}, Classes: obsClasses}},
		// History.
		{"history instance", "GET", "Patient/1/_history", "_count=10", nil, classified{It: HistoryInstance, Level: LevelInstance, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses}},
		{"history type", "GET", "Observation/_history", "_since=2020-01-01", nil, classified{It: HistoryType, Level: LevelType, Type: "Observation", Classes: obsClasses}},
		{"history system", "GET", "_history", "", nil, classified{It: HistorySystem, Level: LevelSystem, Classes: allClassesN}},
		// Create.
		{"create", "POST", "Observation", "", hdr("Content-Type", "application/fhir+json"), classified{It: Create, Type: "Observation", Classes: obsClasses, Format: FormatJSON, BodyFormat: FormatJSON, NeedsBody: true}},
		{"conditional create", "POST", "Observation", "", hdr("If-None-Exist", "identifier=x&patient=9"), classified{It: Create, Type: "Observation", Conditional: true, Patients: []string{"9"}, Classes: obsClasses, NeedsBody: true}},
		{"conditional create with type", "POST", "Patient", "", hdr("If-None-Exist", "Patient?_id=p9"), classified{It: Create, Type: "Patient", Conditional: true, Patients: []string{"p9"}, Classes: patClasses, NeedsBody: true}},
		// Search.
		{"search type", "GET", "Observation", "patient=1&category=laboratory", nil, classified{It: SearchType, Type: "Observation", Patients: []string{"1"}, Classes: []string{DataClassLaboratory}}},
		{"search type post", "POST", "Observation/_search", "", hdr("Content-Type", "application/x-www-form-urlencoded"), classified{It: SearchType, Type: "Observation", Classes: obsClasses, BodyFormat: FormatOther, NeedsBody: true}},
		{"search system", "GET", "", "_type=Observation,Condition&_count=10", nil, classified{It: SearchSystem, Classes: []string{DataClassClinicalTests, DataClassDiagnosticImaging, DataClassEncounter, DataClassGoals, DataClassHealthStatus, DataClassLaboratory, DataClassPatientDemographic, DataClassProblems, DataClassVitalSigns}}},
		{"search system bare", "GET", "", "", nil, classified{It: SearchSystem, Classes: allClassesN}},
		{"search system post", "POST", "_search", "", nil, classified{It: SearchSystem, Classes: allClassesN, NeedsBody: true}},
		{"compartment search", "GET", "Patient/1/Observation", "category=vital-signs", nil, classified{It: SearchType, Type: "Observation", Compartment: Compartment{"Patient", "1"}, Patients: []string{"1"}, Classes: []string{DataClassVitalSigns}}},
		{"compartment all", "GET", "Patient/1/*", "", nil, classified{It: SearchType, Type: "*", Compartment: Compartment{"Patient", "1"}, Patients: []string{"1"}, Classes: allClassesN}},
		{"compartment all typed", "GET", "Patient/1/*", "_type=Immunization", nil, classified{It: SearchType, Type: "*", Compartment: Compartment{"Patient", "1"}, Patients: []string{"1"}, Classes: []string{DataClassImmunizations}}},
		{"compartment post", "POST", "Patient/1/Observation/_search", "", nil, classified{It: SearchType, Type: "Observation", Compartment: Compartment{"Patient", "1"}, Patients: []string{"1"}, Classes: obsClasses, NeedsBody: true}},
		{"encounter compartment", "GET", "Encounter/e1/Observation", "", nil, classified{It: SearchType, Type: "Observation", Compartment: Compartment{"Encounter", "e1"}, Classes: obsClasses}},
		// Batch or transaction: decided by the body.
		{"batch or transaction", "POST", "", "", hdr("Content-Type", "application/fhir+json"), classified{Format: FormatJSON, BodyFormat: FormatJSON, NeedsBody: true}},
		// Operations.
		{"everything instance", "GET", "Patient/1/$everything", "", nil, classified{It: Operation, Level: LevelInstance, Type: "Patient", ID: "1", Op: "everything", Patients: []string{"1"}, Classes: allClassesN}},
		{"everything type", "GET", "Patient/$everything", "", nil, classified{It: Operation, Level: LevelType, Type: "Patient", Op: "everything", Classes: allClassesN}},
		{"everything typed", "GET", "Patient/1/$everything", "_type=Observation", nil, classified{It: Operation, Level: LevelInstance, Type: "Patient", ID: "1", Op: "everything", Patients: []string{"1"}, Classes: obsClasses}},
		{"export system", "GET", "$export", "", hdr("Accept", "application/fhir+json", "Prefer", "respond-async"), classified{It: Operation, Level: LevelSystem, Op: "export", Classes: allClassesN, Format: FormatJSON, Async: true}},
		{"export patient", "GET", "Patient/$export", "_type=Immunization", hdr("Prefer", "respond-async"), classified{It: Operation, Level: LevelType, Type: "Patient", Op: "export", Classes: []string{DataClassImmunizations}, Async: true}},
		{"export group post", "POST", "Group/g1/$export", "", hdr("Prefer", "return=minimal, respond-async"), classified{It: Operation, Level: LevelInstance, Type: "Group", ID: "g1", Op: "export", Classes: allClassesN, Async: true, NeedsBody: true}},
		{"export patient param", "GET", "$export", "patient=Patient/7", nil, classified{It: Operation, Level: LevelSystem, Op: "export", Patients: []string{"7"}, Classes: allClassesN}},
		{"validate", "POST", "Observation/$validate", "", nil, classified{It: Operation, Level: LevelType, Type: "Observation", Op: "validate", Classes: obsClasses, NeedsBody: true}},
		{"meta on version", "GET", "Patient/1/_history/2/$meta", "", nil, classified{It: Operation, Level: LevelInstance, Type: "Patient", ID: "1", Version: "2", Op: "meta", Patients: []string{"1"}, Classes: patClasses}},
		{"meta system", "GET", "$meta", "", nil, classified{It: Operation, Level: LevelSystem, Op: "meta"}},
		{"lastn", "GET", "Observation/$lastn", "patient=1&category=laboratory", nil, classified{It: Operation, Level: LevelType, Type: "Observation", Op: "lastn", Patients: []string{"1"}, Classes: []string{DataClassLaboratory}}},
		{"document", "GET", "Composition/c1/$document", "", nil, classified{It: Operation, Level: LevelInstance, Type: "Composition", ID: "c1", Op: "document"}},
		// Patients from search parameters.
		{"subject typed ref", "GET", "Observation", "subject=Patient/1", nil, classified{It: SearchType, Type: "Observation", Patients: []string{"1"}, Classes: obsClasses}},
		{"subject type modifier", "GET", "Observation", "subject:Patient=1", nil, classified{It: SearchType, Type: "Observation", Patients: []string{"1"}, Classes: obsClasses}},
		{"subject bare id", "GET", "Observation", "subject=1", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"subject absolute", "GET", "Observation", "subject=http://x/fhir/Patient/1", nil, classified{It: SearchType, Type: "Observation", Patients: []string{"1"}, Classes: obsClasses}},
		{"patient ids", "GET", "Patient", "_id=1,2", nil, classified{It: SearchType, Type: "Patient", Patients: []string{"1", "2"}, Classes: patClasses}},
		{"patient OR and AND", "GET", "Observation", "patient=2,1&patient=3&patient=1", nil, classified{It: SearchType, Type: "Observation", Patients: []string{"1", "2", "3"}, Classes: obsClasses}},
		{"other type modifier", "GET", "Observation", "subject:Group=1", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"not modifier", "GET", "Observation", "patient:not=1", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"missing modifier", "GET", "Observation", "patient:missing=true", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"chain", "GET", "Observation", "subject:Patient.name=peter", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"has", "GET", "Patient", "_has:Observation:patient:code=1234", nil, classified{It: SearchType, Type: "Patient", Classes: patClasses}},
		{"element reference(patient)", "GET", "AllergyIntolerance", "patient=example", nil, classified{It: SearchType, Type: "AllergyIntolerance", Patients: []string{"example"}, Classes: []string{DataClassAllergies}}},
		{"patient or group bare", "GET", "DeviceUseStatement", "patient=1", nil, classified{It: SearchType, Type: "DeviceUseStatement"}},
		{"patient or group typed", "GET", "DeviceUseStatement", "patient=Patient/1", nil, classified{It: SearchType, Type: "DeviceUseStatement", Patients: []string{"1"}}},
		{"performer and subject", "GET", "Observation", "performer=Patient/5&subject=Patient/1", nil, classified{It: SearchType, Type: "Observation", Patients: []string{"1", "5"}, Classes: obsClasses}},
		{"patient link", "GET", "Patient", "link=Patient/2", nil, classified{It: SearchType, Type: "Patient", Patients: []string{"2"}, Classes: patClasses}},
		{"invalid id value", "GET", "Observation", "patient=bad_id", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"system search patient", "GET", "", "_type=Observation&patient=1", nil, classified{It: SearchSystem, Patients: []string{"1"}, Classes: obsClasses}},
		{"compartment plus param", "GET", "Patient/1/Observation", "subject=Patient/2", nil, classified{It: SearchType, Type: "Observation", Compartment: Compartment{"Patient", "1"}, Patients: []string{"1", "2"}, Classes: obsClasses}},
		{"coverage beneficiary", "GET", "Coverage", "beneficiary=p1", nil, classified{It: SearchType, Type: "Coverage", Patients: []string{"p1"}, Classes: []string{DataClassHealthInsurance}}},
		// Formats.
		{"format json", "GET", "Patient/1", "_format=json", nil, classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatJSON}},
		{"format fhir+json unencoded", "GET", "Patient/1", "_format=application/fhir+json", nil, classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatJSON}},
		{"format xml", "GET", "Patient/1", "_format=xml", nil, classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatXML}},
		{"format turtle", "GET", "Patient/1", "_format=ttl", nil, classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatTurtle}},
		{"format other", "GET", "Patient/1", "_format=html", nil, classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatOther}},
		{"accept xml", "GET", "Patient/1", "", hdr("Accept", "application/fhir+xml"), classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatXML}},
		{"accept q", "GET", "Patient/1", "", hdr("Accept", "application/fhir+xml;q=0.5, application/fhir+json"), classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatJSON}},
		{"accept html", "GET", "Patient/1", "", hdr("Accept", "text/html"), classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatOther}},
		{"accept wildcard", "GET", "Patient/1", "", hdr("Accept", "*/*"), classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses}},
		{"format wins over accept", "GET", "Patient/1", "_format=json", hdr("Accept", "application/fhir+xml"), classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatJSON}},
		{"content type xml", "PUT", "Patient/1", "", hdr("Content-Type", "application/fhir+xml; charset=utf-8"), classified{It: Update, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatXML, BodyFormat: FormatXML, NeedsBody: true}},
		{"accept ndjson", "GET", "Patient/1", "", hdr("Accept", "application/fhir+ndjson"), classified{It: Read, Type: "Patient", ID: "1", Patients: []string{"1"}, Classes: patClasses, Format: FormatNDJSON}},
		// Parameters of reads and unconditional writes select nothing.
		{"read ignores criteria", "GET", "Observation/o1", "patient=2&category=laboratory", nil, classified{It: Read, Type: "Observation", ID: "o1", Classes: obsClasses}},
		{"update ignores criteria", "PUT", "Observation/o1", "patient=2&category=laboratory", nil, classified{It: Update, Type: "Observation", ID: "o1", Classes: obsClasses, NeedsBody: true}},
		{"conditional update classes", "PUT", "Observation", "category=laboratory&patient=2", nil, classified{It: Update, Type: "Observation", Conditional: true, Patients: []string{"2"}, Classes: obsClasses, NeedsBody: true}},
		{"read ignores include", "GET", "Organization/o1", "_include=*", nil, classified{It: Read, Type: "Organization", ID: "o1"}},
		// Data classes.
		{"two categories", "GET", "Observation", "category=laboratory,vital-signs", nil, classified{It: SearchType, Type: "Observation", Classes: []string{DataClassLaboratory, DataClassVitalSigns}}},
		{"category with system", "GET", "Observation", "category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs", nil, classified{It: SearchType, Type: "Observation", Classes: []string{DataClassVitalSigns}}},
		{"category unknown", "GET", "Observation", "category=exam", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"category other system", "GET", "Observation", "category=http://other.org|laboratory", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"category modifier", "GET", "Observation", "category:not=laboratory", nil, classified{It: SearchType, Type: "Observation", Classes: obsClasses}},
		{"category repeated", "GET", "Observation", "category=laboratory&category=survey", nil, classified{It: SearchType, Type: "Observation", Classes: []string{DataClassHealthStatus, DataClassLaboratory}}},
		{"condition problems", "GET", "Condition", "category=problem-list-item", nil, classified{It: SearchType, Type: "Condition", Classes: []string{DataClassProblems}}},
		{"condition all", "GET", "Condition", "", nil, classified{It: SearchType, Type: "Condition", Classes: []string{DataClassEncounter, DataClassHealthStatus, DataClassProblems}}},
		{"report lab", "GET", "DiagnosticReport", "category=LAB", nil, classified{It: SearchType, Type: "DiagnosticReport", Classes: []string{DataClassLaboratory}}},
		{"report radiology", "GET", "DiagnosticReport", "category=http://loinc.org|LP29684-5", nil, classified{It: SearchType, Type: "DiagnosticReport", Classes: []string{DataClassClinicalNotes, DataClassDiagnosticImaging}}},
		{"include patient", "GET", "Observation", "category=laboratory&_include=Observation:patient", nil, classified{It: SearchType, Type: "Observation", Classes: []string{DataClassLaboratory, DataClassPatientDemographic}}},
		{"include target", "GET", "MedicationRequest", "_include=MedicationRequest:medication:Medication", nil, classified{It: SearchType, Type: "MedicationRequest", Classes: []string{DataClassMedications}}},
		{"revinclude", "GET", "Patient", "_revinclude=Provenance:target", nil, classified{It: SearchType, Type: "Patient", Classes: []string{DataClassPatientDemographic, DataClassProvenance}}},
		{"include wildcard", "GET", "Organization", "_include=*", nil, classified{It: SearchType, Type: "Organization", Classes: allClassesN}},
		{"no classes", "GET", "Organization", "name=x", nil, classified{It: SearchType, Type: "Organization"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := c.Classify(tc.method, tc.path, tc.query, tc.h)
			if err != nil {
				t.Fatalf("Classify(%s %q ? %q): %v", tc.method, tc.path, tc.query, err)
			}
			if got := project(req); !got.equal(tc.want) {
				t.Errorf("Classify(%s %q ? %q)\n got %+v\nwant %+v", tc.method, tc.path, tc.query, got, tc.want)
			}
			if req.Method != tc.method {
				t.Errorf("Method = %q", req.Method)
			}
			if !isSortedUnique(req.Patients) || !isSortedUnique(req.DataClasses) {
				t.Errorf("patients %v or classes %v not sorted unique", req.Patients, req.DataClasses)
			}
		})
	}
}

func TestClassifyParams(t *testing.T) {
	c := NewClassifier(ClassifierOptions{})
	req, err := c.Classify("GET", "Observation", "subject:Patient.name=peter&code=a,b&_count=5", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Params) != 3 || req.Param("code") == nil || !slices.Equal(req.Param("code").Values, []string{"a", "b"}) {
		t.Fatalf("params %+v", req.Params)
	}
	if p := req.Param("subject"); p == nil || p.Modifier != "Patient" || !slices.Equal(p.Chain, []string{"name"}) {
		t.Errorf("subject param %+v", p)
	}
	// The If-None-Exist criteria of a conditional create are parameters.
	req, err = c.Classify("POST", "Patient", "", hdr("If-None-Exist", "identifier=http://x|1"))
	if err != nil {
		t.Fatal(err)
	}
	if p := req.Param("identifier"); p == nil || p.Values[0] != "http://x|1" {
		t.Errorf("criteria %+v", req.Params)
	}
}

func TestClassifyErrors(t *testing.T) {
	c := NewClassifier(ClassifierOptions{})
	for _, tc := range []struct {
		name, method, path, query string
		h                         http.Header
		want                      error
		status                    int
	}{
		{"empty segment", "GET", "Patient//1", "", nil, ErrMalformedPath, 400},
		{"trailing slash", "GET", "Patient/1/", "", nil, ErrMalformedPath, 400},
		{"leading slash", "GET", "/Patient/1", "", nil, ErrMalformedPath, 400},
		{"dot", "GET", "Patient/./1", "", nil, ErrMalformedPath, 400},
		{"dot dot", "GET", "Patient/../secret", "", nil, ErrMalformedPath, 400},
		{"encoded dot dot", "GET", "Patient/%2E%2E", "", nil, ErrMalformedPath, 400},
		{"encoded dot lower", "GET", "Patient/1/%2e", "", nil, ErrMalformedPath, 400},
		{"mixed dot", "GET", "Patient/.%2e", "", nil, ErrMalformedPath, 400},
		{"encoded slash", "GET", "Patient%2F1", "", nil, ErrMalformedPath, 400},
		{"encoded slash lower", "GET", "Patient/a%2fb", "", nil, ErrMalformedPath, 400},
		{"encoded backslash", "GET", "Patient/1%5C2", "", nil, ErrMalformedPath, 400},
		{"raw backslash", "GET", `Patient\1`, "", nil, ErrMalformedPath, 400},
		{"encoded NUL", "GET", "Patient/1%00", "", nil, ErrMalformedPath, 400},
		{"encoded newline", "GET", "Patient/%0A", "", nil, ErrMalformedPath, 400},
		{"raw control", "GET", "Patient/\x01", "", nil, ErrMalformedPath, 400},
		{"raw DEL", "GET", "Patient/a\x7f", "", nil, ErrMalformedPath, 400},
		{"bad escape", "GET", "Patient/%zz", "", nil, ErrMalformedPath, 400},
		{"truncated escape", "GET", "Patient/%4", "", nil, ErrMalformedPath, 400},
		{"too long", "GET", "Patient/1/_history/2/$meta/x", "", nil, ErrMalformedPath, 400},
		{"way too long", "GET", "a/b/c/d/e/f/g", "", nil, ErrMalformedPath, 400},
		{"well-known other", "GET", ".well-known/openid-configuration", "", nil, ErrMalformedPath, 400},
		{"metadata extra", "GET", "metadata/x", "", nil, ErrMalformedPath, 400},
		{"empty op", "GET", "$", "", nil, ErrMalformedPath, 400},
		{"bad op name", "GET", "Patient/$ev%20il", "", nil, ErrMalformedPath, 400},
		{"after op", "GET", "Patient/1/$everything/x", "", nil, ErrMalformedPath, 400},
		{"after version", "GET", "Patient/1/_history/2/x", "", nil, ErrMalformedPath, 400},
		{"after compartment", "GET", "Patient/1/Observation/x", "", nil, ErrMalformedPath, 400},
		{"not a compartment", "GET", "Observation/1/Condition", "", nil, ErrMalformedPath, 400},
		{"unknown type", "GET", "Nope/1", "", nil, ErrUnknownResourceType, 400},
		{"lowercase type", "GET", "patient/1", "", nil, ErrUnknownResourceType, 400},
		{"unknown compartment type", "GET", "Patient/1/Nope", "", nil, ErrUnknownResourceType, 400},
		{"invalid id", "GET", "Patient/a_b", "", nil, ErrInvalidID, 400},
		{"long id", "GET", "Patient/" + strings.Repeat("x", 65), "", nil, ErrInvalidID, 400},
		{"invalid version", "GET", "Patient/1/_history/x_y", "", nil, ErrInvalidID, 400},
		{"invalid compartment id", "GET", "Patient/a_b/Observation", "", nil, ErrInvalidID, 400},
		{"delete metadata", "DELETE", "metadata", "", nil, ErrMethodNotAllowed, 405},
		{"post metadata", "POST", "metadata", "", nil, ErrMethodNotAllowed, 405},
		{"put smart", "PUT", ".well-known/smart-configuration", "", nil, ErrMethodNotAllowed, 405},
		{"put base", "PUT", "", "", nil, ErrMethodNotAllowed, 405},
		{"delete base", "DELETE", "", "", nil, ErrMethodNotAllowed, 405},
		{"post instance", "POST", "Patient/1", "", nil, ErrMethodNotAllowed, 405},
		{"put type no criteria", "PUT", "Patient", "", nil, ErrMethodNotAllowed, 405},
		{"delete type no criteria", "DELETE", "Observation", "", nil, ErrMethodNotAllowed, 405},
		{"get _search", "GET", "_search", "", nil, ErrMethodNotAllowed, 405},
		{"get type _search", "GET", "Patient/_search", "", nil, ErrMethodNotAllowed, 405},
		{"delete history", "DELETE", "Patient/_history", "", nil, ErrMethodNotAllowed, 405},
		{"post history", "POST", "_history", "", nil, ErrMethodNotAllowed, 405},
		{"put operation", "PUT", "Patient/1/$everything", "", nil, ErrMethodNotAllowed, 405},
		{"post compartment", "POST", "Patient/1/Observation", "", nil, ErrMethodNotAllowed, 405},
		{"get compartment _search", "GET", "Patient/1/Observation/_search", "", nil, ErrMethodNotAllowed, 405},
		{"post version", "POST", "Patient/1/_history/2", "", nil, ErrMethodNotAllowed, 405},
		{"put history", "PUT", "Patient/1/_history", "", nil, ErrMethodNotAllowed, 405},
		{"options", "OPTIONS", "", "", nil, ErrMethodNotAllowed, 405},
		{"lowercase method", "get", "Patient/1", "", nil, ErrMethodNotAllowed, 405},
		{"trace", "TRACE", "Patient/1", "", nil, ErrMethodNotAllowed, 405},
		{"bad query escape", "GET", "Patient", "name=%G1", nil, ErrInvalidQuery, 400},
		{"bad query NUL", "GET", "Patient/1", "_format=%00", nil, ErrInvalidQuery, 400},
		{"bad has", "GET", "Patient", "_has:Observation=1", nil, ErrInvalidQuery, 400},
		{"bad if-none-exist", "POST", "Patient", "", hdr("If-None-Exist", "identifier=%zz"), ErrInvalidQuery, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := c.Classify(tc.method, tc.path, tc.query, tc.h)
			if err == nil {
				t.Fatalf("Classify(%s %q ? %q) = %+v, want error %v", tc.method, tc.path, tc.query, project(req), tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var ce *ClassifyError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ClassifyError", err)
			}
			if ce.Status != tc.status || ce.Code == "" || !strings.HasPrefix(ce.Msg, "fhir: ") {
				t.Errorf("error %+v, want status %d, a code and a fhir: message", ce, tc.status)
			}
			for _, secret := range []string{"a_b", "secret", "x_y", "G1", "xxxxx", "zz", "Nope", "ev il"} {
				if strings.Contains(ce.Msg, secret) {
					t.Errorf("message %q echoes the request (%q)", ce.Msg, secret)
				}
			}
		})
	}
}

func TestClassifyBulkLookup(t *testing.T) {
	c := NewClassifier(ClassifierOptions{BulkLookup: func(p string) (Interaction, bool) {
		switch p {
		case "bulkstatus/job-1":
			return BulkStatus, true
		case "files/out-1.ndjson":
			return BulkFile, true
		case "Patient/1":
			return Read, true // not a bulk answer: ignored
		}
		return InteractionUnknown, false
	}})
	for _, tc := range []struct {
		name, method, path string
		h                  http.Header
		want               Interaction
		format             Format
		err                error
	}{
		{"status poll", "GET", "bulkstatus/job-1", nil, BulkStatus, FormatUnspecified, nil},
		{"status cancel", "DELETE", "bulkstatus/job-1", nil, BulkStatus, FormatUnspecified, nil},
		{"status post", "POST", "bulkstatus/job-1", nil, 0, 0, ErrMethodNotAllowed},
		{"file", "GET", "files/out-1.ndjson", hdr("Accept", "application/fhir+ndjson"), BulkFile, FormatNDJSON, nil},
		{"file delete", "DELETE", "files/out-1.ndjson", nil, 0, 0, ErrMethodNotAllowed},
		{"non-bulk answer ignored", "GET", "Patient/1", nil, Read, FormatUnspecified, nil},
		{"unknown path still fails", "GET", "bulkstatus/job-2", nil, 0, 0, ErrUnknownResourceType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := c.Classify(tc.method, tc.path, "", tc.h)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.Interaction != tc.want || req.Format != tc.format {
				t.Errorf("got %v/%v, want %v/%v", req.Interaction, req.Format, tc.want, tc.format)
			}
		})
	}
}

func BenchmarkClassifySearch(b *testing.B) {
	c := NewClassifier(ClassifierOptions{})
	h := hdr("Accept", "application/fhir+json")
	b.ReportAllocs()
	for b.Loop() {
		req, err := c.Classify("GET", "Observation", "patient=123&category=laboratory&date=ge2020-01-01&_count=50", h)
		if err != nil || len(req.Patients) != 1 {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassifyRead(b *testing.B) {
	c := NewClassifier(ClassifierOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Classify("GET", "Patient/123", "", nil); err != nil {
			b.Fatal(err)
		}
	}
}
