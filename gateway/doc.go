// Package gateway is the HTTP front of ehigate: a reverse proxy in front of
// an EHR's FHIR API that, for every request, identifies the requester,
// classifies the FHIR request, asks the decision engine, commits the
// decision record durably, and only then forwards the request (streaming
// and rewriting the response) or answers with a FHIR OperationOutcome
// notice. When the response ends, the record is completed.
//
// Sub-packages hold the parts with a job of their own: auth (tokens to
// Requester), throttle, hold, admin (the compliance API and console) and
// demo (an in-memory FHIR server for trying the product).
package gateway
