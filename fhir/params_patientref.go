package fhir

// PatientRefParam is a reference search parameter of a resource type whose
// targets include Patient, e.g. Observation "subject" or "patient".
type PatientRefParam struct {
	// Param is the search parameter code.
	Param string
	// PatientOnly reports that the parameter can reference nothing but a
	// Patient, so that a bare id ("patient=123") names a Patient. It is
	// true when the R4 SearchParameter targets only Patient, when its
	// expression keeps only Patients (".where(resolve() is Patient)"), or
	// when the element it reads is typed Reference(Patient) although the
	// shared SearchParameter (clinical-patient) lists "Patient, Group":
	// AllergyIntolerance, Consent, DetectedIssue, EpisodeOfCare,
	// FamilyMemberHistory, Immunization, NutritionOrder, SupplyDelivery and
	// VisionPrescription "patient".
	PatientOnly bool
}

// PatientRefParams returns the reference search parameters of a resource
// type that can target a Patient (nil for none), sorted by code. They are
// every R4 4.0.1 SearchParameter of type reference whose target includes
// Patient, for each base type it applies to; the Patient compartment
// parameters are among them. The returned slice is shared: callers must not
// modify it.
func PatientRefParams(resourceType string) []PatientRefParam {
	return patientRefParams[resourceType]
}

// patientRefParam returns the Patient-targeting reference parameter code
// of resourceType.
func patientRefParam(resourceType, code string) (PatientRefParam, bool) {
	for _, p := range patientRefParams[resourceType] {
		if p.Param == code {
			return p, true
		}
	}
	return PatientRefParam{}, false
}

// patientRefParams is the table behind PatientRefParams, from the R4
// SearchParameter definitions (http://hl7.org/fhir/R4/searchparameter-registry.html).
var patientRefParams = map[string][]PatientRefParam{
	"Account":                     {{"patient", true}, {"subject", false}},
	"ActivityDefinition":          {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"AdverseEvent":                {{"recorder", false}, {"subject", false}},
	"AllergyIntolerance":          {{"asserter", false}, {"patient", true}, {"recorder", false}},
	"Appointment":                 {{"actor", false}, {"patient", true}, {"supporting-info", false}},
	"AppointmentResponse":         {{"actor", false}, {"patient", true}},
	"AuditEvent":                  {{"agent", false}, {"entity", false}, {"patient", true}, {"source", false}},
	"Basic":                       {{"author", false}, {"patient", true}, {"subject", false}},
	"BodyStructure":               {{"patient", true}},
	"CarePlan":                    {{"patient", true}, {"performer", false}, {"subject", false}},
	"CareTeam":                    {{"participant", false}, {"patient", true}, {"subject", false}},
	"ChargeItem":                  {{"enterer", false}, {"patient", true}, {"performer-actor", false}, {"subject", false}},
	"Claim":                       {{"patient", true}, {"payee", false}},
	"ClaimResponse":               {{"patient", true}},
	"ClinicalImpression":          {{"patient", true}, {"subject", false}, {"supporting-info", false}},
	"Communication":               {{"based-on", false}, {"part-of", false}, {"patient", true}, {"recipient", false}, {"sender", false}, {"subject", false}},
	"CommunicationRequest":        {{"based-on", false}, {"patient", true}, {"recipient", false}, {"requester", false}, {"sender", false}, {"subject", false}},
	"Composition":                 {{"attester", false}, {"author", false}, {"entry", false}, {"patient", true}, {"subject", false}},
	"Condition":                   {{"asserter", false}, {"evidence-detail", false}, {"patient", true}, {"subject", false}},
	"Consent":                     {{"actor", false}, {"consentor", false}, {"data", false}, {"patient", true}},
	"Contract":                    {{"patient", true}, {"signer", false}, {"subject", false}},
	"Coverage":                    {{"beneficiary", true}, {"patient", true}, {"payor", false}, {"policy-holder", false}, {"subscriber", false}},
	"CoverageEligibilityRequest":  {{"patient", true}},
	"CoverageEligibilityResponse": {{"patient", true}},
	"DetectedIssue":               {{"implicated", false}, {"patient", true}},
	"Device":                      {{"patient", true}},
	"DeviceRequest":               {{"based-on", false}, {"patient", true}, {"performer", false}, {"prior-request", false}, {"subject", false}},
	"DeviceUseStatement":          {{"patient", false}, {"subject", false}},
	"DiagnosticReport":            {{"patient", true}, {"subject", false}},
	"DocumentManifest":            {{"author", false}, {"item", false}, {"patient", true}, {"recipient", false}, {"related-ref", false}, {"subject", false}},
	"DocumentReference":           {{"author", false}, {"patient", true}, {"related", false}, {"subject", false}},
	"Encounter":                   {{"patient", true}, {"subject", false}},
	"EnrollmentRequest":           {{"patient", true}, {"subject", true}},
	"EpisodeOfCare":               {{"patient", true}},
	"EventDefinition":             {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"Evidence":                    {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"EvidenceVariable":            {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"ExplanationOfBenefit":        {{"patient", true}, {"payee", false}},
	"FamilyMemberHistory":         {{"patient", true}},
	"Flag":                        {{"author", false}, {"patient", true}, {"subject", false}},
	"Goal":                        {{"patient", true}, {"subject", false}},
	"Group":                       {{"member", false}},
	"GuidanceResponse":            {{"patient", true}, {"subject", false}},
	"ImagingStudy":                {{"patient", true}, {"performer", false}, {"subject", false}},
	"Immunization":                {{"patient", true}},
	"ImmunizationEvaluation":      {{"patient", true}},
	"ImmunizationRecommendation":  {{"information", false}, {"patient", true}},
	"ImplementationGuide":         {{"resource", false}},
	"Invoice":                     {{"participant", false}, {"patient", true}, {"recipient", false}, {"subject", false}},
	"Library":                     {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"Linkage":                     {{"item", false}, {"source", false}},
	"List":                        {{"item", false}, {"patient", true}, {"source", false}, {"subject", false}},
	"Measure":                     {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"MeasureReport":               {{"evaluated-resource", false}, {"patient", true}, {"subject", false}},
	"Media":                       {{"operator", false}, {"patient", true}, {"subject", false}},
	"MedicationAdministration":    {{"patient", true}, {"performer", false}, {"subject", false}},
	"MedicationDispense":          {{"patient", true}, {"performer", false}, {"receiver", false}, {"subject", false}},
	"MedicationRequest":           {{"intended-performer", false}, {"patient", true}, {"requester", false}, {"subject", false}},
	"MedicationStatement":         {{"patient", true}, {"source", false}, {"subject", false}},
	"MessageHeader":               {{"focus", false}},
	"MolecularSequence":           {{"patient", true}},
	"NutritionOrder":              {{"patient", true}},
	"Observation":                 {{"focus", false}, {"patient", true}, {"performer", false}, {"subject", false}},
	"Patient":                     {{"link", false}},
	"PaymentNotice":               {{"request", false}, {"response", false}},
	"Person":                      {{"link", false}, {"patient", true}},
	"PlanDefinition":              {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"Procedure":                   {{"patient", true}, {"performer", false}, {"subject", false}},
	"Provenance":                  {{"agent", false}, {"entity", false}, {"patient", true}, {"target", false}},
	"QuestionnaireResponse":       {{"author", false}, {"patient", true}, {"source", false}, {"subject", false}},
	"RelatedPerson":               {{"patient", true}},
	"RequestGroup":                {{"participant", false}, {"patient", true}, {"subject", false}},
	"ResearchDefinition":          {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"ResearchElementDefinition":   {{"composed-of", false}, {"depends-on", false}, {"derived-from", false}, {"predecessor", false}, {"successor", false}},
	"ResearchSubject":             {{"individual", true}, {"patient", true}},
	"RiskAssessment":              {{"patient", true}, {"subject", false}},
	"Schedule":                    {{"actor", false}},
	"ServiceRequest":              {{"patient", true}, {"performer", false}, {"requester", false}, {"subject", false}},
	"Specimen":                    {{"patient", true}, {"subject", false}},
	"SupplyDelivery":              {{"patient", true}},
	"SupplyRequest":               {{"requester", false}, {"subject", false}},
	"Task":                        {{"based-on", false}, {"focus", false}, {"owner", false}, {"patient", true}, {"requester", false}, {"subject", false}},
	"VerificationResult":          {{"target", false}},
	"VisionPrescription":          {{"patient", true}},
}
