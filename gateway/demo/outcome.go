package demo

import (
	"errors"
	"net/http"
	"strconv"
)

// Errors returned by Put and LoadTransaction, matched with errors.Is.
var (
	// ErrInvalid reports a body that is not a storable FHIR resource.
	ErrInvalid = errors.New("demo: invalid resource")
	// ErrNotBundle reports a LoadTransaction input that is not a Bundle.
	ErrNotBundle = errors.New("demo: not a Bundle")
)

// statusError is a failure with the HTTP status and OperationOutcome issue
// code that report it.
type statusError struct {
	status int
	code   string
	msg    string
	allow  string // the Allow header of a 405
}

// Error returns the message with the package prefix.
func (e *statusError) Error() string { return "demo: " + e.msg }

// Unwrap makes client errors match ErrInvalid.
func (e *statusError) Unwrap() error {
	if e.status == http.StatusBadRequest || e.status == http.StatusUnprocessableEntity {
		return ErrInvalid
	}
	return nil
}

// newError returns a statusError.
func newError(status int, code, msg string) error {
	return &statusError{status: status, code: code, msg: msg}
}

// statusOf returns the status and issue code for err.
func statusOf(err error) (int, string, string) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.code, se.msg
	}
	return http.StatusInternalServerError, "exception", err.Error()
}

// appendOutcome appends an OperationOutcome with one issue.
func appendOutcome(dst []byte, severity, code, msg string) []byte {
	dst = append(dst, `{"resourceType":"OperationOutcome","issue":[{"severity":`...)
	dst = appendString(dst, severity)
	dst = append(dst, `,"code":`...)
	dst = appendString(dst, code)
	if msg != "" {
		dst = append(dst, `,"diagnostics":`...)
		dst = appendString(dst, msg)
	}
	return append(dst, `}]}`...)
}

// errorOutcome returns the OperationOutcome body for err.
func errorOutcome(err error) (int, []byte) {
	status, code, msg := statusOf(err)
	sev := "error"
	if status >= 500 {
		sev = "fatal"
	}
	return status, appendOutcome(nil, sev, code, msg)
}

// statusLine renders a Bundle entry response.status, e.g. "201 Created".
func statusLine(status int) string {
	return strconv.Itoa(status) + " " + http.StatusText(status)
}
