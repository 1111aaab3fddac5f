package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// Errors of the gateway itself, matched with errors.Is.
var (
	ErrOutsideBase     = errors.New("gateway: path outside the FHIR base")
	ErrHeadersTooLarge = errors.New("gateway: request headers too large")
	ErrBodyTooLarge    = errors.New("gateway: request body too large")
	ErrUpgrade         = errors.New("gateway: protocol upgrade not supported")
	ErrRequestBody     = errors.New("gateway: reading the request body failed")
	ErrJournal         = errors.New("gateway: the decision could not be recorded")
	ErrUpstreamDown    = errors.New("gateway: upstream unreachable")
	ErrUpstreamTimeout = errors.New("gateway: upstream timed out")
	ErrUpstreamInvalid = errors.New("gateway: upstream sent an invalid response")
	ErrClientGone      = errors.New("gateway: client disconnected")
	ErrUnauthenticated = errors.New("gateway: not authenticated")
	ErrInternal        = errors.New("gateway: internal error")
)

// failure is how an error is answered and recorded: the HTTP status, the
// FHIR issue type, a reason code for the record and a plain-language text
// for the requester. None of them may carry PHI.
type failure struct {
	status int
	code   string
	reason string
	text   string
}

func failureOf(err error) failure {
	var ce *fhir.ClassifyError
	switch {
	case errors.Is(err, ErrOutsideBase):
		return failure{http.StatusNotFound, "not-found", "outside-base", "This address is not part of the FHIR API."}
	case errors.Is(err, ErrHeadersTooLarge):
		return failure{http.StatusRequestHeaderFieldsTooLarge, "too-long", "headers-too-large", "The request headers are larger than this server accepts."}
	case errors.Is(err, ErrBodyTooLarge):
		return failure{http.StatusRequestEntityTooLarge, "too-long", "body-too-large", "The request body is larger than this server accepts."}
	case errors.Is(err, ErrUpgrade):
		return failure{http.StatusNotImplemented, "not-supported", "upgrade-not-supported", "Protocol upgrades are not supported."}
	case errors.Is(err, ErrRequestBody):
		return failure{http.StatusBadRequest, "incomplete", "request-body-error", "The request body could not be read completely."}
	case errors.Is(err, ErrJournal):
		return failure{http.StatusServiceUnavailable, "transient", "journal-unavailable", "The request could not be recorded, so it was not carried out. Please retry shortly."}
	case errors.Is(err, ErrUpstreamTimeout):
		return failure{http.StatusGatewayTimeout, "timeout", "upstream-timeout", "The health record system did not answer in time."}
	case errors.Is(err, ErrUpstreamInvalid):
		return failure{http.StatusBadGateway, "exception", "upstream-invalid-response", "The health record system sent an invalid response."}
	case errors.Is(err, ErrUpstreamDown):
		return failure{http.StatusBadGateway, "transient", "upstream-unreachable", "The health record system could not be reached."}
	case errors.Is(err, ErrClientGone):
		return failure{499, "incomplete", "client-disconnected", ""}
	case errors.Is(err, ErrUnauthenticated):
		return failure{http.StatusUnauthorized, "login", "unauthenticated", "A valid access token is required."}
	case errors.As(err, &ce):
		return failure{ce.Status, ce.Code, classifyReason(err), userText(ce.Msg)}
	}
	return failure{http.StatusInternalServerError, "exception", "internal-error", "The gateway failed to handle the request."}
}

func classifyReason(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{fhir.ErrMalformedPath, "malformed-path"},
		{fhir.ErrUnknownResourceType, "unknown-resource-type"},
		{fhir.ErrInvalidID, "invalid-id"},
		{fhir.ErrMethodNotAllowed, "method-not-allowed"},
		{fhir.ErrInvalidQuery, "invalid-query"},
		{fhir.ErrInvalidBody, "invalid-body"},
		{fhir.ErrUnsupportedMediaType, "unsupported-media-type"},
		{fhir.ErrBodyTooLarge, "body-too-large"},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return "bad-request"
}

// upstreamError classifies an error from the upstream round trip.
func upstreamError(err error) error {
	var ne net.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return ErrBodyTooLarge
	case errors.Is(err, context.Canceled):
		return ErrClientGone
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ErrUpstreamTimeout
	case errors.Is(err, ErrUpstreamInvalid), errors.Is(err, ErrRequestBody), errors.Is(err, ErrBodyTooLarge):
		return err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return ErrUpstreamDown
	}
	return errors.Join(ErrUpstreamInvalid, err)
}

// userText turns a package-prefixed diagnostic ("fhir: malformed path:
// ...") into a sentence for the requester.
func userText(msg string) string {
	msg = strings.TrimPrefix(msg, "fhir: ")
	if msg == "" {
		return "The request is not valid."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
