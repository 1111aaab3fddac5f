package fhir

// Interaction is a FHIR RESTful interaction
// (http://hl7.org/fhir/restful-interaction) or one of the gateway's own kinds
// for requests outside the REST grammar.
type Interaction uint8

// The interactions.
const (
	InteractionUnknown Interaction = iota
	Read
	VRead
	Update
	Patch
	Delete
	HistoryInstance
	HistoryType
	HistorySystem
	Create
	SearchType
	SearchSystem
	Capabilities
	Batch
	Transaction
	Operation
	// BulkStatus is a poll of (or a DELETE to cancel) a Bulk Data job's
	// status URL that the gateway learned from a kick-off response.
	BulkStatus
	// BulkFile is a download of a Bulk Data output file the gateway learned
	// from a job's manifest.
	BulkFile
	// SmartConfiguration is GET [base]/.well-known/smart-configuration.
	SmartConfiguration
)

var interactionNames = [...]string{
	InteractionUnknown: "unknown",
	Read:               "read",
	VRead:              "vread",
	Update:             "update",
	Patch:              "patch",
	Delete:             "delete",
	HistoryInstance:    "history-instance",
	HistoryType:        "history-type",
	HistorySystem:      "history-system",
	Create:             "create",
	SearchType:         "search-type",
	SearchSystem:       "search-system",
	Capabilities:       "capabilities",
	Batch:              "batch",
	Transaction:        "transaction",
	Operation:          "operation",
	BulkStatus:         "bulk-status",
	BulkFile:           "bulk-file",
	SmartConfiguration: "smart-configuration",
}

// String returns the interaction code, e.g. "search-type".
func (i Interaction) String() string {
	if int(i) < len(interactionNames) {
		return interactionNames[i]
	}
	return "unknown"
}

// ParseInteraction parses an interaction code as returned by String.
func ParseInteraction(s string) (Interaction, bool) {
	for i, n := range interactionNames {
		if n == s {
			return Interaction(i), true
		}
	}
	return InteractionUnknown, false
}

// Interactions lists every interaction code, for validation messages.
func Interactions() []string { return append([]string(nil), interactionNames[1:]...) }

// Level is where an operation or history interaction applies.
type Level uint8

// The levels.
const (
	LevelNone Level = iota
	LevelSystem
	LevelType
	LevelInstance
)

func (l Level) String() string {
	switch l {
	case LevelSystem:
		return "system"
	case LevelType:
		return "type"
	case LevelInstance:
		return "instance"
	}
	return ""
}

// Format is the wire format a request asks for or sends.
type Format uint8

// The formats.
const (
	FormatUnspecified Format = iota
	FormatJSON
	FormatXML
	FormatTurtle
	FormatNDJSON
	FormatOther
)

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatXML:
		return "xml"
	case FormatTurtle:
		return "turtle"
	case FormatNDJSON:
		return "ndjson"
	case FormatOther:
		return "other"
	}
	return ""
}

// Compartment names a compartment, e.g. Patient/123.
type Compartment struct {
	Type string
	ID   string
}

// IsZero reports whether no compartment is set.
func (c Compartment) IsZero() bool { return c.Type == "" }

// Param is one parsed search (or operation) parameter.
type Param struct {
	// Key is the parameter name as sent, e.g. "subject:Patient.name".
	Key string
	// Name is the base parameter name, e.g. "subject", "_include", "_has".
	Name string
	// Modifier is the modifier after ':' without it, e.g. "Patient",
	// "exact", "missing", "iterate".
	Modifier string
	// Chain is a forward chain after the name, each link "param" or
	// "param:Type", e.g. ["name"] for subject:Patient.name.
	Chain []string
	// Has is the reverse chain of a _has parameter, outermost first.
	Has []HasLink
	// HasParam is the parameter tested at the end of a _has chain.
	HasParam string
	// Values are the comma-separated alternatives, with FHIR escapes (\, \$ \|)
	// undone. Repeats of the same key are separate Params.
	Values []string
	// FromBody is true when the parameter came from a form-encoded body
	// (POST _search) rather than the URL.
	FromBody bool
}

// HasLink is one step of a _has reverse chain: resources of Type whose
// Reference parameter points back.
type HasLink struct {
	Type      string
	Reference string
}

// Request is the gateway's classification of one FHIR request.
type Request struct {
	Method      string
	Interaction Interaction
	// Level is set for operations and history.
	Level Level
	// ResourceType is the type in the path (for a compartment search, the
	// type searched, e.g. Observation in Patient/1/Observation; "*" for
	// Patient/1/*).
	ResourceType string
	ID           string
	VersionID    string
	// Operation is the operation name without "$", e.g. "everything".
	Operation   string
	Compartment Compartment
	// Conditional is set for conditional create, update, patch and delete.
	Conditional bool
	Params      []Param
	// Format is the format requested (by _format or Accept).
	Format Format
	// Async is set when the client sent Prefer: respond-async.
	Async bool
	// Patients are the ids of the Patients the request concerns, sorted and
	// unique: from the path, the compartment, search parameters via the
	// Patient CompartmentDefinition, and request bodies.
	Patients []string
	// DataClasses are the USCDI data classes the request may touch, sorted
	// and unique.
	DataClasses []string
	// Entries are the classified entries of a batch or transaction Bundle.
	Entries []Entry
	// NeedsBody is true when the classification is incomplete until the
	// body is read with ClassifyBody (batch/transaction, POST _search forms,
	// and create/update/patch whose patients the body names).
	NeedsBody bool
	// BodyFormat is the format of the request body, from Content-Type
	// (FormatOther for form encoding and unknown types).
	BodyFormat Format
	// BodyOpaque is set by ClassifyBody when the body is in a format the
	// classifier does not read (XML, Turtle, binary patches): Patients and
	// DataClasses then reflect the path and query only.
	BodyOpaque bool
}

// Entry is one classified entry of a batch or transaction Bundle.
type Entry struct {
	// Index is the entry's position in Bundle.entry.
	Index int
	// FullURL is entry.fullUrl as sent.
	FullURL string
	// Request is entry.request classified like a top-level request, with
	// the patients of entry.resource (for creates and updates) included.
	Request Request
}

// Param returns the first parameter with the given name, or nil.
func (r *Request) Param(name string) *Param {
	for i := range r.Params {
		if r.Params[i].Name == name {
			return &r.Params[i]
		}
	}
	return nil
}
