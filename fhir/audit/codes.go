package audit

// The project's own systems and the extension, documented in
// docs/audit-event.md.
const (
	// ExceptionExtension is the complex extension a restriction's event
	// carries: code, cfr, policy, policyVersion, policySha256,
	// catalogVersion and decision.
	ExceptionExtension = "https://ehigate.dev/fhir/StructureDefinition/information-blocking-exception"
	// ExceptionSystem is the code system of the exception codes (the same
	// as in the gateway's OperationOutcome notices).
	ExceptionSystem = "https://ehigate.dev/fhir/CodeSystem/information-blocking-exception"
	// DecisionSystem names decision ids (the X-Ehigate-Decision header).
	DecisionSystem = "https://ehigate.dev/fhir/NamingSystem/decision-id"
	// ClassSystem is the code system of requester classes.
	ClassSystem = "https://ehigate.dev/fhir/CodeSystem/requester-class"
	// InteractionSystem holds the gateway's interactions that are not FHIR
	// restful interactions (bulk-status, bulk-file, smart-configuration,
	// unknown).
	InteractionSystem = "https://ehigate.dev/fhir/CodeSystem/interaction"
	// DefaultPolicyBase prefixes policy URIs: DefaultPolicyBase + id +
	// "@" + version.
	DefaultPolicyBase = "urn:ehigate:policy:"
)

// Systems and profiles defined elsewhere.
const (
	balp                 = "https://profiles.ihe.net/ITI/BALP"
	profileBase          = balp + "/StructureDefinition/IHE.BasicAudit."
	balpEntityType       = balp + "/CodeSystem/BasicAuditEntityType"
	authzSubtype         = balp + "/CodeSystem/AuthZsubType"
	dicom                = "http://dicom.nema.org/resources/ontology/DCM"
	eventTypeSystem      = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	interactionSystem    = "http://hl7.org/fhir/restful-interaction"
	participationType    = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	provenanceParticipan = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
	securityRoleType     = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	entityTypeSystem     = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	objectRoleSystem     = "http://terminology.hl7.org/CodeSystem/object-role"
	resourceTypes        = "http://hl7.org/fhir/resource-types"
	sourceTypeSystem     = "http://terminology.hl7.org/CodeSystem/security-source-type"
	actReason            = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	uriSystem            = "urn:ietf:rfc:3986"
)

// Pattern is the BALP pattern an event follows.
type Pattern string

// The patterns. A Patient* profile is claimed when the event names a
// patient; profiles are claimed only by successful events, which are the
// ones the BALP profiles describe.
const (
	Read   Pattern = "Read"
	Query  Pattern = "Query"
	Create Pattern = "Create"
	Update Pattern = "Update"
	Delete Pattern = "Delete"
	// AuthZ is the authorization-decision pattern (type Security Alert,
	// subtype AuthZ-Consent or AuthZ-Role, action E).
	AuthZ Pattern = "AuthZ"
)

// Outcome codes (http://hl7.org/fhir/audit-event-outcome).
const (
	OutcomeSuccess = "0"
	OutcomeMinor   = "4"
	OutcomeSerious = "8"
)

// interactionPattern maps a record's interaction to its REST pattern, its
// action and whether it is a FHIR restful-interaction code.
func interactionPattern(interaction string) (p Pattern, action string, restful bool) {
	switch interaction {
	case "read", "vread", "capabilities":
		return Read, "R", true
	case "search-type", "search-system", "history-instance", "history-type", "history-system", "operation", "batch", "transaction":
		return Query, "E", true
	case "create":
		return Create, "C", true
	case "update", "patch":
		return Update, "U", true
	case "delete":
		return Delete, "D", true
	case "bulk-file", "smart-configuration":
		return Read, "R", false
	}
	// bulk-status, unknown and anything new.
	return Query, "E", false
}

// profiled reports whether a successful event of pattern p with this
// subtype conforms to the BALP profile (Read and Query fix their subtypes).
func profiled(p Pattern, interaction string) bool {
	switch p {
	case Read:
		return interaction == "read" || interaction == "vread"
	case Query:
		return interaction == "search-type" || interaction == "search-system"
	case Create, Update, Delete:
		return true
	}
	return false
}

// agentTypes returns the client agent's, the server agent's and the user
// agent's types for a REST pattern (BALP: the query flows from client to
// server, so for Query and writes the client is the source).
func agentTypes(p Pattern) (client, server, user Coding) {
	user = Coding{System: participationType, Code: "IRCP", Display: "information recipient"}
	switch p {
	case Read:
		return Coding{System: dicom, Code: "110152", Display: "Destination Role ID"},
			Coding{System: dicom, Code: "110153", Display: "Source Role ID"}, user
	case Delete:
		return Coding{System: dicom, Code: "110150", Display: "Application"},
			Coding{System: provenanceParticipan, Code: "custodian", Display: "Custodian"},
			Coding{System: participationType, Code: "AUT", Display: "author (originator)"}
	case Create, Update:
		user = Coding{System: participationType, Code: "AUT", Display: "author (originator)"}
	}
	return Coding{System: dicom, Code: "110153", Display: "Source Role ID"},
		Coding{System: dicom, Code: "110152", Display: "Destination Role ID"}, user
}

// Fixed codings.
var (
	restType      = Coding{System: eventTypeSystem, Code: "rest", Display: "Restful Operation"}
	securityAlert = Coding{System: dicom, Code: "110113", Display: "Security Alert"}
	appAgent      = Coding{System: dicom, Code: "110150", Display: "Application"}
	authServer    = Coding{System: securityRoleType, Code: "authserver", Display: "authorization server"}
	systemObject  = Coding{System: entityTypeSystem, Code: "2", Display: "System Object"}
	person        = Coding{System: entityTypeSystem, Code: "1", Display: "Person"}
	patientRole   = Coding{System: objectRoleSystem, Code: "1", Display: "Patient"}
	domainRole    = Coding{System: objectRoleSystem, Code: "4", Display: "Domain Resource"}
	queryRole     = Coding{System: objectRoleSystem, Code: "24", Display: "Query"}
	consentType   = Coding{System: resourceTypes, Code: "Consent", Display: "Consent"}
	requestIDType = Coding{System: balpEntityType, Code: "XrequestId"}
	appServer     = Coding{System: sourceTypeSystem, Code: "4", Display: "Application Server"}
	securityServ  = Coding{System: sourceTypeSystem, Code: "6", Display: "Security Server"}
)
