package fhir

// CompartmentParam is one way a resource type links to the Patient
// compartment: a search parameter of the R4 Patient CompartmentDefinition
// and the element paths (below the resource) it covers.
type CompartmentParam struct {
	Param string
	Paths []string
}

// CompartmentParams returns the Patient compartment parameters of a
// resource type (nil when the type is not in the compartment). The
// returned slice is shared: callers must not modify it.
func CompartmentParams(resourceType string) []CompartmentParam {
	return patientCompartment[resourceType]
}

// CompartmentTypes lists the R4 compartment types that a compartment search
// ([base]/Type/id/SearchedType) may name.
func CompartmentTypes() []string {
	return []string{"Device", "Encounter", "Patient", "Practitioner", "RelatedPerson"}
}

// isCompartmentType reports whether t is one of CompartmentTypes.
func isCompartmentType(t string) bool {
	switch t {
	case "Device", "Encounter", "Patient", "Practitioner", "RelatedPerson":
		return true
	}
	return false
}

// patientCompartment is the R4 Patient CompartmentDefinition
// (http://hl7.org/fhir/CompartmentDefinition/patient, 4.0.1): the 66
// resource types with inclusion criteria, each parameter in the order the
// definition lists it, with the element paths of its R4 SearchParameter
// expression. A ".where(resolve() is Patient)" in the expression needs no
// path of its own: only references to a Patient place a resource in a
// Patient's compartment, whatever the path.
var patientCompartment = map[string][]CompartmentParam{
	"Account":                     {{Param: "subject", Paths: []string{"subject"}}},
	"AdverseEvent":                {{Param: "subject", Paths: []string{"subject"}}},
	"AllergyIntolerance":          {{Param: "patient", Paths: []string{"patient"}}, {Param: "recorder", Paths: []string{"recorder"}}, {Param: "asserter", Paths: []string{"asserter"}}},
	"Appointment":                 {{Param: "actor", Paths: []string{"participant.actor"}}},
	"AppointmentResponse":         {{Param: "actor", Paths: []string{"actor"}}},
	"AuditEvent":                  {{Param: "patient", Paths: []string{"agent.who", "entity.what"}}},
	"Basic":                       {{Param: "patient", Paths: []string{"subject"}}, {Param: "author", Paths: []string{"author"}}},
	"BodyStructure":               {{Param: "patient", Paths: []string{"patient"}}},
	"CarePlan":                    {{Param: "patient", Paths: []string{"subject"}}, {Param: "performer", Paths: []string{"activity.detail.performer"}}},
	"CareTeam":                    {{Param: "patient", Paths: []string{"subject"}}, {Param: "participant", Paths: []string{"participant.member"}}},
	"ChargeItem":                  {{Param: "subject", Paths: []string{"subject"}}},
	"Claim":                       {{Param: "patient", Paths: []string{"patient"}}, {Param: "payee", Paths: []string{"payee.party"}}},
	"ClaimResponse":               {{Param: "patient", Paths: []string{"patient"}}},
	"ClinicalImpression":          {{Param: "subject", Paths: []string{"subject"}}},
	"Communication":               {{Param: "subject", Paths: []string{"subject"}}, {Param: "sender", Paths: []string{"sender"}}, {Param: "recipient", Paths: []string{"recipient"}}},
	"CommunicationRequest":        {{Param: "subject", Paths: []string{"subject"}}, {Param: "sender", Paths: []string{"sender"}}, {Param: "recipient", Paths: []string{"recipient"}}, {Param: "requester", Paths: []string{"requester"}}},
	"Composition":                 {{Param: "subject", Paths: []string{"subject"}}, {Param: "author", Paths: []string{"author"}}, {Param: "attester", Paths: []string{"attester.party"}}},
	"Condition":                   {{Param: "patient", Paths: []string{"subject"}}, {Param: "asserter", Paths: []string{"asserter"}}},
	"Consent":                     {{Param: "patient", Paths: []string{"patient"}}},
	"Coverage":                    {{Param: "policy-holder", Paths: []string{"policyHolder"}}, {Param: "subscriber", Paths: []string{"subscriber"}}, {Param: "beneficiary", Paths: []string{"beneficiary"}}, {Param: "payor", Paths: []string{"payor"}}},
	"CoverageEligibilityRequest":  {{Param: "patient", Paths: []string{"patient"}}},
	"CoverageEligibilityResponse": {{Param: "patient", Paths: []string{"patient"}}},
	"DetectedIssue":               {{Param: "patient", Paths: []string{"patient"}}},
	"DeviceRequest":               {{Param: "subject", Paths: []string{"subject"}}, {Param: "performer", Paths: []string{"performer"}}},
	"DeviceUseStatement":          {{Param: "subject", Paths: []string{"subject"}}},
	"DiagnosticReport":            {{Param: "subject", Paths: []string{"subject"}}},
	"DocumentManifest":            {{Param: "subject", Paths: []string{"subject"}}, {Param: "author", Paths: []string{"author"}}, {Param: "recipient", Paths: []string{"recipient"}}},
	"DocumentReference":           {{Param: "subject", Paths: []string{"subject"}}, {Param: "author", Paths: []string{"author"}}},
	"Encounter":                   {{Param: "patient", Paths: []string{"subject"}}},
	"EnrollmentRequest":           {{Param: "subject", Paths: []string{"candidate"}}},
	"EpisodeOfCare":               {{Param: "patient", Paths: []string{"patient"}}},
	"ExplanationOfBenefit":        {{Param: "patient", Paths: []string{"patient"}}, {Param: "payee", Paths: []string{"payee.party"}}},
	"FamilyMemberHistory":         {{Param: "patient", Paths: []string{"patient"}}},
	"Flag":                        {{Param: "patient", Paths: []string{"subject"}}},
	"Goal":                        {{Param: "patient", Paths: []string{"subject"}}},
	"Group":                       {{Param: "member", Paths: []string{"member.entity"}}},
	"ImagingStudy":                {{Param: "patient", Paths: []string{"subject"}}},
	"Immunization":                {{Param: "patient", Paths: []string{"patient"}}},
	"ImmunizationEvaluation":      {{Param: "patient", Paths: []string{"patient"}}},
	"ImmunizationRecommendation":  {{Param: "patient", Paths: []string{"patient"}}},
	"Invoice":                     {{Param: "subject", Paths: []string{"subject"}}, {Param: "patient", Paths: []string{"subject"}}, {Param: "recipient", Paths: []string{"recipient"}}},
	"List":                        {{Param: "subject", Paths: []string{"subject"}}, {Param: "source", Paths: []string{"source"}}},
	"MeasureReport":               {{Param: "patient", Paths: []string{"subject"}}},
	"Media":                       {{Param: "subject", Paths: []string{"subject"}}},
	"MedicationAdministration":    {{Param: "patient", Paths: []string{"subject"}}, {Param: "performer", Paths: []string{"performer.actor"}}, {Param: "subject", Paths: []string{"subject"}}},
	"MedicationDispense":          {{Param: "subject", Paths: []string{"subject"}}, {Param: "patient", Paths: []string{"subject"}}, {Param: "receiver", Paths: []string{"receiver"}}},
	"MedicationRequest":           {{Param: "subject", Paths: []string{"subject"}}},
	"MedicationStatement":         {{Param: "subject", Paths: []string{"subject"}}},
	"MolecularSequence":           {{Param: "patient", Paths: []string{"patient"}}},
	"NutritionOrder":              {{Param: "patient", Paths: []string{"patient"}}},
	"Observation":                 {{Param: "subject", Paths: []string{"subject"}}, {Param: "performer", Paths: []string{"performer"}}},
	"Patient":                     {{Param: "link", Paths: []string{"link.other"}}},
	"Person":                      {{Param: "patient", Paths: []string{"link.target"}}},
	"Procedure":                   {{Param: "patient", Paths: []string{"subject"}}, {Param: "performer", Paths: []string{"performer.actor"}}},
	"Provenance":                  {{Param: "patient", Paths: []string{"target"}}},
	"QuestionnaireResponse":       {{Param: "subject", Paths: []string{"subject"}}, {Param: "author", Paths: []string{"author"}}},
	"RelatedPerson":               {{Param: "patient", Paths: []string{"patient"}}},
	"RequestGroup":                {{Param: "subject", Paths: []string{"subject"}}, {Param: "participant", Paths: []string{"action.participant"}}},
	"ResearchSubject":             {{Param: "individual", Paths: []string{"individual"}}},
	"RiskAssessment":              {{Param: "subject", Paths: []string{"subject"}}},
	"Schedule":                    {{Param: "actor", Paths: []string{"actor"}}},
	"ServiceRequest":              {{Param: "subject", Paths: []string{"subject"}}, {Param: "performer", Paths: []string{"performer"}}},
	"Specimen":                    {{Param: "subject", Paths: []string{"subject"}}},
	"SupplyDelivery":              {{Param: "patient", Paths: []string{"patient"}}},
	"SupplyRequest":               {{Param: "subject", Paths: []string{"deliverTo"}}},
	"VisionPrescription":          {{Param: "patient", Paths: []string{"patient"}}},
}
