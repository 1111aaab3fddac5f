// Package consent turns patients' FHIR R4 Consent resources — requests not
// to share (45 CFR 171.202(e)) — into rules the engine enforces, per
// request and per resource.
//
// A Consent loads when it is active, has the patient-privacy scope (or
// none), names its Patient and the date the request was documented
// (dateTime), and every provision is well formed; anything else is
// reported with its file and a JSON pointer, and does not load. Only the
// project's own small struct is decoded (no FHIR model library).
//
// Evaluation. A provision applies when all of its populated criteria hold:
// period (when the request is made), action (access, disclose and use for
// reads; correct and collect for writes), purpose (the requester's purpose
// of use), actors with a recipient role (PRCP, IRCP, ...: the requester,
// by its fhirUser reference, by a client-id or requester-class identifier,
// or through the configured actor map), actors with a source role (CST,
// AUT, INF, ENT, PRF, ...: a resource referring to them), security labels,
// class (resource type, profile or attachment media type), code (any
// coding in the resource), dataPeriod (the resource's clinical date) and
// data (the resource itself, or one referring to it). A root provision
// that does not apply leaves the Consent silent. The result of a provision
// that applies is a deny from any nested provision that applies and
// denies, else a permit from one that permits, else its own type. The
// root's type is its type element or, as R4 leaves it out, the base of
// policyRule (OPTOUT, OPTOUTE, EMRGONLY and NOCONSENT deny, anything else
// permits); a nested provision without a type takes the opposite of its
// parent's. A Consent never restricts the patient's own access, or their
// personal representative's.
//
// A request is denied when every patient it names has a Consent denying
// the requester everything; otherwise, when some Consent may deny the
// requester something, each resource of the response is checked against
// the Consents of its patients and withheld when one denies it. Records
// name each Consent applied as a policy reference carrying
// "Consent/<id>/_history/<versionId>".
package consent
