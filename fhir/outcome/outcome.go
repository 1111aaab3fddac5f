package outcome

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType is the media type of FHIR JSON.
const ContentType = "application/fhir+json; charset=utf-8"

// Severity values (http://hl7.org/fhir/issue-severity).
const (
	Fatal       = "fatal"
	Error       = "error"
	Warning     = "warning"
	Information = "information"
)

// Extension URLs used on issues.
const (
	// AuthorityURL is the R4 core extension naming where the rule is defined.
	AuthorityURL = "http://hl7.org/fhir/StructureDefinition/operationoutcome-authority"
	// IssueSourceURL is the R4 core extension naming the issue's source.
	IssueSourceURL = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-source"
)

// OperationOutcome is an R4 OperationOutcome with the elements the gateway
// uses. Empty elements are omitted, as FHIR JSON requires.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id,omitempty"`
	Meta         *Meta   `json:"meta,omitempty"`
	Issue        []Issue `json:"issue"`
}

// Meta is Resource.meta.
type Meta struct {
	Security []Coding `json:"security,omitempty"`
	Tag      []Coding `json:"tag,omitempty"`
}

// Issue is OperationOutcome.issue.
type Issue struct {
	Extension   []Extension      `json:"extension,omitempty"`
	Severity    string           `json:"severity"`
	Code        string           `json:"code"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
	Expression  []string         `json:"expression,omitempty"`
}

// Extension is a FHIR extension with the value types the gateway uses.
type Extension struct {
	URL          string `json:"url"`
	ValueURI     string `json:"valueUri,omitempty"`
	ValueString  string `json:"valueString,omitempty"`
	ValueCode    string `json:"valueCode,omitempty"`
	ValueInstant string `json:"valueInstant,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// New returns an OperationOutcome with one issue whose user-facing text
// is text (details.text).
func New(severity, code, text string) *OperationOutcome {
	oo := &OperationOutcome{ResourceType: "OperationOutcome", Issue: []Issue{{Severity: severity, Code: code}}}
	if text != "" {
		oo.Issue[0].Details = &CodeableConcept{Text: text}
	}
	return oo
}

// JSON encodes the outcome.
func (o *OperationOutcome) JSON() []byte {
	b, err := json.Marshal(o)
	if err != nil {
		// Only strings and slices of them: encoding cannot fail.
		panic("outcome: " + err.Error())
	}
	return b
}

// Write sends the outcome as the response with the given status.
func (o *OperationOutcome) Write(w http.ResponseWriter, status int) {
	b := o.JSON()
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
