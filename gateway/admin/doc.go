// Package admin is the gateway's admin listener: health probes (/healthz,
// /readyz), metrics (/metrics), and the compliance API with its own
// credentials (docs/admin-api.md).
//
// Credentials are bearer tokens stored as their SHA-256 and compared in
// constant time, or JWTs of one configured issuer, verified as
// gateway/auth verifies requesters' tokens, whose role is read from a
// claim. Two roles: an auditor reads (records, decision traces, policies,
// holds, notices, chains, reports, audit packages, the FHIR AuditEvent
// view); an officer may also release held requests and mark written
// responses sent. A request without credentials is answered 401 with
// WWW-Authenticate, one whose role may not do what it asks 403; errors are
// FHIR OperationOutcomes.
//
// Every API request is itself recorded: an access entry (actor, role,
// method, path and normalised query, status, count) is appended durably to
// the gateway's journal before any record data is returned; when it cannot
// be, the data is not returned. Probes and metrics are not recorded.
package admin
