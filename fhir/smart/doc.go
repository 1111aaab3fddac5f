// Package smart is the gateway's knowledge of SMART App Launch 2.x
// authorization: the scope grammar (v1 "patient/Observation.read" and v2
// "patient/Observation.rs?category=...", in patient, user and system
// contexts), the Grant a token carries (its resource scopes, launch patient
// and fhirUser), and the authorization of a classified fhir.Request against
// a Grant.
//
// Authorization has two halves. Authorize decides a request before it is
// forwarded: the interaction maps to a permission letter (c, r, u, d, s),
// batch and transaction entries are checked one by one, operations follow
// a small table, and a patient-context grant reaches only its patient's
// compartment (a search that names no patient is narrowed by adding the
// patient parameter, or refused when that cannot be done safely). Check
// decides each resource of the response: it is released only when a
// granted scope admits it, granular ?param=value constraints included.
//
// The package knows nothing of tokens or HTTP: gateway/auth reads tokens
// and the gateway applies the results.
package smart
