package fhir

import (
	"math/bits"
	"strings"
)

// The USCDI v3 data classes, as USCDI v3 spells them.
const (
	DataClassAllergies          = "Allergies and Intolerances"
	DataClassAssessmentPlan     = "Assessment and Plan of Treatment"
	DataClassCareTeam           = "Care Team Member(s)"
	DataClassClinicalNotes      = "Clinical Notes"
	DataClassClinicalTests      = "Clinical Tests"
	DataClassDiagnosticImaging  = "Diagnostic Imaging"
	DataClassEncounter          = "Encounter Information"
	DataClassGoals              = "Goals"
	DataClassHealthInsurance    = "Health Insurance Information"
	DataClassHealthStatus       = "Health Status Assessments"
	DataClassImmunizations      = "Immunizations"
	DataClassLaboratory         = "Laboratory"
	DataClassMedicalDevices     = "Medical Devices"
	DataClassMedications        = "Medications"
	DataClassPatientDemographic = "Patient Demographics/Information"
	DataClassProblems           = "Problems"
	DataClassProcedures         = "Procedures"
	DataClassProvenance         = "Provenance"
	DataClassVitalSigns         = "Vital Signs"
)

// dataClassNames are the classes in sorted order; bit i of a classMask is
// dataClassNames[i].
var dataClassNames = [...]string{
	DataClassAllergies, DataClassAssessmentPlan, DataClassCareTeam, DataClassClinicalNotes,
	DataClassClinicalTests, DataClassDiagnosticImaging, DataClassEncounter, DataClassGoals,
	DataClassHealthInsurance, DataClassHealthStatus, DataClassImmunizations, DataClassLaboratory,
	DataClassMedicalDevices, DataClassMedications, DataClassPatientDemographic, DataClassProblems,
	DataClassProcedures, DataClassProvenance, DataClassVitalSigns,
}

// DataClassNames returns the USCDI v3 data class names the classifier
// uses, sorted, for validating policies.
func DataClassNames() []string { return append([]string(nil), dataClassNames[:]...) }

// classMask is a set of data classes.
type classMask uint32

const (
	cAllergies classMask = 1 << iota
	cAssessmentPlan
	cCareTeam
	cClinicalNotes
	cClinicalTests
	cDiagnosticImaging
	cEncounter
	cGoals
	cHealthInsurance
	cHealthStatus
	cImmunizations
	cLaboratory
	cMedicalDevices
	cMedications
	cDemographics
	cProblems
	cProcedures
	cProvenance
	cVitalSigns

	allClasses = cVitalSigns<<1 - 1
)

// names returns the classes of m, sorted (nil for none).
func (m classMask) names() []string {
	if m == 0 {
		return nil
	}
	out := make([]string, 0, bits.OnesCount32(uint32(m)))
	for i := range dataClassNames {
		if m&(1<<i) != 0 {
			out = append(out, dataClassNames[i])
		}
	}
	return out
}

// typeClasses maps a resource type to every class it can hold (US Core's
// USCDI mapping, reference/fhir.md §7).
var typeClasses = map[string]classMask{
	"AllergyIntolerance":       cAllergies,
	"CarePlan":                 cAssessmentPlan,
	"CareTeam":                 cCareTeam,
	"Practitioner":             cCareTeam,
	"PractitionerRole":         cCareTeam,
	"RelatedPerson":            cCareTeam | cDemographics,
	"DocumentReference":        cClinicalNotes,
	"DiagnosticReport":         cClinicalNotes | cClinicalTests | cDiagnosticImaging | cLaboratory,
	"ImagingStudy":             cDiagnosticImaging,
	"Observation":              cClinicalTests | cDiagnosticImaging | cGoals | cHealthStatus | cLaboratory | cDemographics | cVitalSigns,
	"Encounter":                cEncounter,
	"Location":                 cEncounter,
	"Condition":                cEncounter | cHealthStatus | cProblems,
	"Goal":                     cGoals,
	"Coverage":                 cHealthInsurance,
	"QuestionnaireResponse":    cHealthStatus,
	"Immunization":             cImmunizations,
	"Specimen":                 cLaboratory,
	"Device":                   cMedicalDevices,
	"Medication":               cMedications,
	"MedicationRequest":        cMedications,
	"MedicationDispense":       cMedications,
	"MedicationStatement":      cMedications,
	"MedicationAdministration": cMedications,
	"Patient":                  cDemographics,
	"Procedure":                cProcedures,
	"ServiceRequest":           cProcedures,
	"Provenance":               cProvenance,
}

// categoryRule narrows a type's classes by one category code.
type categoryRule struct {
	system, code string
	classes      classMask
}

const (
	sysObsCategory  = "http://terminology.hl7.org/CodeSystem/observation-category"
	sysUSCoreCat    = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
	sysCondCategory = "http://terminology.hl7.org/CodeSystem/condition-category"
	sysUSCoreCond   = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
	sysV20074       = "http://terminology.hl7.org/CodeSystem/v2-0074"
	sysLOINC        = "http://loinc.org"
)

// categoryRules are the category codes that tell which class a resource of
// a shared type belongs to. A type missing here is not narrowed.
var categoryRules = map[string][]categoryRule{
	"Observation": {
		{sysObsCategory, "laboratory", cLaboratory},
		{sysObsCategory, "vital-signs", cVitalSigns},
		{sysObsCategory, "imaging", cDiagnosticImaging | cClinicalTests},
		{sysObsCategory, "procedure", cClinicalTests},
		{sysObsCategory, "survey", cHealthStatus},
		{sysObsCategory, "social-history", cHealthStatus | cDemographics},
		{sysUSCoreCat, "sdoh", cHealthStatus},
		{sysUSCoreCat, "functional-status", cHealthStatus},
		{sysUSCoreCat, "disability-status", cHealthStatus},
		{sysUSCoreCat, "cognitive-status", cHealthStatus},
		{sysUSCoreCat, "treatment-intervention-preference", cGoals},
		{sysUSCoreCat, "intervention-preference", cGoals},
		{sysUSCoreCat, "care-experience-preference", cGoals},
	},
	"Condition": {
		{sysCondCategory, "problem-list-item", cProblems},
		{sysCondCategory, "encounter-diagnosis", cEncounter},
		{sysUSCoreCond, "health-concern", cProblems | cHealthStatus},
		{sysCondCategory, "health-concern", cProblems | cHealthStatus},
	},
	"DiagnosticReport": {
		{sysLOINC, "LP29684-5", cClinicalNotes | cDiagnosticImaging}, // Radiology
		{sysLOINC, "LP29708-2", cClinicalNotes},                      // Cardiology
		{sysLOINC, "LP7839-6", cClinicalNotes},                       // Pathology
		{sysV20074, "LAB", cLaboratory},
		{sysV20074, "BG", cLaboratory},
		{sysV20074, "BLB", cLaboratory},
		{sysV20074, "CH", cLaboratory},
		{sysV20074, "CP", cLaboratory},
		{sysV20074, "GE", cLaboratory},
		{sysV20074, "HM", cLaboratory},
		{sysV20074, "IMM", cLaboratory},
		{sysV20074, "MB", cLaboratory},
		{sysV20074, "MCB", cLaboratory},
		{sysV20074, "MYC", cLaboratory},
		{sysV20074, "SP", cLaboratory},
		{sysV20074, "SR", cLaboratory},
		{sysV20074, "TX", cLaboratory},
		{sysV20074, "VR", cLaboratory},
		{sysV20074, "RAD", cDiagnosticImaging},
		{sysV20074, "CT", cDiagnosticImaging},
		{sysV20074, "NMR", cDiagnosticImaging},
		{sysV20074, "NMS", cDiagnosticImaging},
		{sysV20074, "RUS", cDiagnosticImaging},
		{sysV20074, "RX", cDiagnosticImaging},
		{sysV20074, "OUS", cDiagnosticImaging},
		{sysV20074, "VUS", cDiagnosticImaging},
		{sysV20074, "CUS", cDiagnosticImaging},
		{sysV20074, "EC", cClinicalTests},
		{sysV20074, "CTH", cClinicalTests},
		{sysV20074, "PF", cClinicalTests},
	},
}

// categoryClasses returns the classes a category code gives a resource of
// type t (ok false when the code is not one the table knows). An empty
// system matches any system.
func categoryClasses(t, system, code string) (classMask, bool) {
	var m classMask
	for _, r := range categoryRules[t] {
		if r.code == code && (system == "" || system == r.system) {
			m |= r.classes
		}
	}
	return m, m != 0
}

// searchClasses returns the classes a search of type t may touch, narrowed
// by its category parameters: the union of the classes of the category
// values, or every class of the type when there is no category parameter
// or a value (or modifier) the table cannot place.
func searchClasses(t string, params []Param) classMask {
	all := typeClasses[t]
	if _, narrow := categoryRules[t]; !narrow {
		return all
	}
	var m classMask
	seen := false
	for i := range params {
		p := &params[i]
		if p.Name != "category" || len(p.Chain) > 0 {
			continue
		}
		if p.Modifier != "" {
			return all
		}
		seen = true
		for _, v := range p.Values {
			system, code := "", v
			if i := strings.LastIndexByte(v, '|'); i >= 0 {
				system, code = v[:i], v[i+1:]
				if system == "" {
					return all
				}
			}
			c, ok := categoryClasses(t, system, code)
			if !ok {
				return all
			}
			m |= c
		}
	}
	if !seen {
		return all
	}
	return m
}

// typesClasses returns the union of the classes of the types listed by the
// _type parameters, and false when there is none.
func typesClasses(params []Param) (classMask, bool) {
	var m classMask
	found := false
	for i := range params {
		if params[i].Name != "_type" {
			continue
		}
		found = true
		for _, t := range params[i].Values {
			m |= typeClasses[strings.TrimSpace(t)]
		}
	}
	return m, found
}

// includeClasses returns the classes that _include (with a target type)
// and _revinclude parameters add to a search's result. An _include without
// a target adds Patient when its parameter can target Patient; "*" adds
// everything.
func includeClasses(params []Param) classMask {
	var m classMask
	for i := range params {
		p := &params[i]
		if p.Name != "_include" && p.Name != "_revinclude" {
			continue
		}
		for _, v := range p.Values {
			inc, ok := parseInclude(v)
			switch {
			case !ok:
			case inc.Source == "*" || inc.Param == "*":
				return allClasses
			case p.Name == "_revinclude":
				m |= typeClasses[inc.Source]
			case inc.Target != "":
				m |= typeClasses[inc.Target]
			default:
				if _, ok := patientRefParam(inc.Source, inc.Param); ok {
					m |= typeClasses["Patient"]
				}
			}
		}
	}
	return m
}

// codeableConcept is the part of a CodeableConcept the classes need.
type codeableConcept struct {
	Coding []Coding `json:"coding"`
}

// DataClassesOf returns the USCDI data classes of a resource met in a
// response or request body, sorted: by its type, narrowed by its category
// codes where the type is shared between classes. A resource whose
// categories are all unknown to the table gets every class of its type.
func DataClassesOf(r *Resource) []string { return resourceClasses(r).names() }

func resourceClasses(r *Resource) classMask {
	all := typeClasses[r.Type]
	if _, narrow := categoryRules[r.Type]; !narrow {
		return all
	}
	var cats []codeableConcept
	if !r.Member("category", &cats) {
		var one codeableConcept
		if !r.Member("category", &one) {
			return all
		}
		cats = append(cats, one)
	}
	var m classMask
	for _, cc := range cats {
		for _, c := range cc.Coding {
			if cm, ok := categoryClasses(r.Type, c.System, c.Code); ok {
				m |= cm
			}
		}
	}
	if m == 0 {
		return all
	}
	return m
}
