package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The classification errors, matched with errors.Is on a *ClassifyError.
var (
	// ErrMalformedPath: an empty segment, a "." or ".." segment (raw or
	// percent-encoded), an encoded "/" or "\" inside a segment, a control
	// character, invalid percent-encoding, or a path outside the FHIR REST
	// grammar.
	ErrMalformedPath = errors.New("fhir: malformed path")
	// ErrUnknownResourceType: a path or parameter names a type that is not
	// an R4 resource type.
	ErrUnknownResourceType = errors.New("fhir: unknown resource type")
	// ErrInvalidID: a logical id or version id that is not [A-Za-z0-9\-\.]{1,64}.
	ErrInvalidID = errors.New("fhir: invalid id")
	// ErrMethodNotAllowed: the method is not defined for the path (405).
	ErrMethodNotAllowed = errors.New("fhir: method not allowed")
	// ErrInvalidQuery: a query string, form body or If-None-Exist header
	// that does not parse.
	ErrInvalidQuery = errors.New("fhir: invalid query")
	// ErrInvalidBody: invalid JSON, a resourceType that does not match the
	// request, a Bundle.type other than batch or transaction for POST
	// [base], or a bad entry.request.
	ErrInvalidBody = errors.New("fhir: invalid body")
	// ErrUnsupportedMediaType: a body the classifier must read (batch,
	// transaction, POST _search) is in a format it does not read (415).
	ErrUnsupportedMediaType = errors.New("fhir: unsupported media type")
	// ErrBodyTooLarge: the body exceeds ClassifierOptions.MaxBodyBytes, or a
	// Bundle MaxEntries (413).
	ErrBodyTooLarge = errors.New("fhir: body too large")
)

// ClassifyError is the error Classify and ClassifyBody return. Msg never
// holds parameter values or ids: it is safe to log and to show the client.
type ClassifyError struct {
	// Status is the HTTP status to answer with: 400, or 405, 413, 415 for
	// ErrMethodNotAllowed, ErrBodyTooLarge and ErrUnsupportedMediaType.
	Status int
	// Code is the FHIR issue-type code (http://hl7.org/fhir/issue-type).
	Code string
	// Msg is a diagnostic free of PHI, starting "fhir: ".
	Msg string
	// Err wraps the sentinel errors that apply.
	Err error
}

// Error returns Msg.
func (e *ClassifyError) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *ClassifyError) Unwrap() error { return e.Err }

// classifyErr builds a ClassifyError for sentinel with a detail message
// (which must be free of PHI).
func classifyErr(sentinel error, detail string) *ClassifyError {
	e := &ClassifyError{Status: http.StatusBadRequest, Code: "invalid", Err: sentinel}
	switch sentinel {
	case ErrUnknownResourceType:
		e.Code = "not-supported"
	case ErrInvalidID:
		e.Code = "value"
	case ErrMethodNotAllowed:
		e.Status, e.Code = http.StatusMethodNotAllowed, "not-supported"
	case ErrInvalidBody:
		e.Code = "structure"
	case ErrUnsupportedMediaType:
		e.Status, e.Code = http.StatusUnsupportedMediaType, "not-supported"
	case ErrBodyTooLarge:
		e.Status, e.Code = http.StatusRequestEntityTooLarge, "too-long"
	}
	e.Msg = sentinel.Error()
	if detail != "" {
		e.Msg += ": " + detail
	}
	return e
}

// entryErr turns an error met in Bundle entry i into an ErrInvalidBody
// ClassifyError that also matches the entry's own sentinel.
func entryErr(i int, err error) *ClassifyError {
	var ce *ClassifyError
	if !errors.As(err, &ce) {
		return classifyErr(ErrInvalidBody, fmt.Sprintf("entry %d", i))
	}
	wrapped := ce.Err
	if !errors.Is(wrapped, ErrInvalidBody) {
		wrapped = fmt.Errorf("%w: %w", ErrInvalidBody, ce.Err)
	}
	return &ClassifyError{
		Status: http.StatusBadRequest,
		Code:   ce.Code,
		Msg:    fmt.Sprintf("%s: entry %d: %s", ErrInvalidBody.Error(), i, strings.TrimPrefix(ce.Msg, "fhir: ")),
		Err:    wrapped,
	}
}
