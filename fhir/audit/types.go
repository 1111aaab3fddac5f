package audit

// AuditEvent is an R4 AuditEvent with the elements the BALP patterns use.
// Empty elements are omitted, as FHIR JSON requires; Agent and Source are
// required and always present.
type AuditEvent struct {
	ResourceType   string            `json:"resourceType"`
	ID             string            `json:"id,omitempty"`
	Meta           *Meta             `json:"meta,omitempty"`
	Extension      []Extension       `json:"extension,omitempty"`
	Type           Coding            `json:"type"`
	Subtype        []Coding          `json:"subtype,omitempty"`
	Action         string            `json:"action,omitempty"`
	Period         *Period           `json:"period,omitempty"`
	Recorded       string            `json:"recorded"`
	Outcome        string            `json:"outcome,omitempty"`
	OutcomeDesc    string            `json:"outcomeDesc,omitempty"`
	PurposeOfEvent []CodeableConcept `json:"purposeOfEvent,omitempty"`
	Agent          []Agent           `json:"agent"`
	Source         Source            `json:"source"`
	Entity         []Entity          `json:"entity,omitempty"`
}

// Meta is Resource.meta.
type Meta struct {
	Profile []string `json:"profile,omitempty"`
}

// Extension is a FHIR extension: a complex one (Extension) or one with a
// value of the types this package uses.
type Extension struct {
	URL         string      `json:"url"`
	Extension   []Extension `json:"extension,omitempty"`
	ValueString string      `json:"valueString,omitempty"`
	ValueCoding *Coding     `json:"valueCoding,omitempty"`
	ValueURI    string      `json:"valueUri,omitempty"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Reference is a FHIR Reference.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Period is a FHIR Period (instants as FHIR dateTime strings).
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Agent is AuditEvent.agent. Requestor is required and always written.
type Agent struct {
	Type         *CodeableConcept  `json:"type,omitempty"`
	Role         []CodeableConcept `json:"role,omitempty"`
	Who          *Reference        `json:"who,omitempty"`
	Requestor    bool              `json:"requestor"`
	Policy       []string          `json:"policy,omitempty"`
	Network      *Network          `json:"network,omitempty"`
	PurposeOfUse []CodeableConcept `json:"purposeOfUse,omitempty"`
}

// Network is AuditEvent.agent.network; Type is a
// http://hl7.org/fhir/network-type code ("2" IP address, "5" URI).
type Network struct {
	Address string `json:"address,omitempty"`
	Type    string `json:"type,omitempty"`
}

// Source is AuditEvent.source: who recorded the event.
type Source struct {
	Site     string    `json:"site,omitempty"`
	Observer Reference `json:"observer"`
	Type     []Coding  `json:"type,omitempty"`
}

// Entity is AuditEvent.entity. Query is base64 (FHIR base64Binary).
type Entity struct {
	What        *Reference `json:"what,omitempty"`
	Type        *Coding    `json:"type,omitempty"`
	Role        *Coding    `json:"role,omitempty"`
	Description string     `json:"description,omitempty"`
	Query       string     `json:"query,omitempty"`
}
