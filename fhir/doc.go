// Package fhir is the gateway's FHIR R4 knowledge, with no server in it:
// classifying a request into the project's own Request type (interaction,
// resource type, compartment, search parameters, the patients concerned and
// their USCDI data classes), the R4 resource types, and the Patient
// CompartmentDefinition.
//
// Streaming work on bodies lives in fhir/stream, OperationOutcome and
// AuditEvent builders in fhir/outcome and fhir/audit. FHIR model libraries
// are used only inside this tree.
package fhir
