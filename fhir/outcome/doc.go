// Package outcome builds FHIR R4 OperationOutcome resources: the notices
// the gateway answers with when it refuses, delays or throttles a request,
// and the errors it reports for bad input or a failing upstream.
package outcome
