// Package audit turns decision records into FHIR R4 AuditEvents that follow
// the IHE Basic Audit Log Patterns (BALP): Read and PatientRead for read and
// vread, Query and PatientQuery for searches, history and operations,
// Create, Update and Delete (and their Patient variants) for writes, and the
// authorization-decision pattern (AuthZ) for restrictions: deny, redact,
// throttle, delay, and refusals of identity or scope.
//
// One AuditEvent is made per record, or one per patient when a record names
// several (BALP best practice). Event ids derive from the record id (and
// the patient), so the same record always gives the same events. Events
// carry no PHI beyond what BALP requires: patient references, the request
// path (records keep no query string, so the query entity holds the base64
// of the path only), never bodies and never tokens. Restrictions carry the
// exception, its CFR cite, the policy and the decision id in the extension
// ExceptionExtension, documented in docs/audit-event.md.
//
// The types are hand-written with the omitempty rules FHIR JSON needs (no
// empty arrays, objects or strings); BundleWriter streams them into a
// searchset or collection Bundle without holding the events in memory.
package audit
