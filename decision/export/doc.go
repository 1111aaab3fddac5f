// Package export writes and checks audit packages: the zip an
// investigator is given for a time window (and, optionally, one patient,
// requester or policy).
//
// A package holds the records (records.ndjson, each recomputed from its
// journal entries), the journal entries that prove them (entries.ndjson:
// whole segments of each hash chain between signed checkpoints), the
// checkpoints (checkpoints.json), the AuditEvents of the records
// (auditevents.json, a FHIR Bundle), every policy version in force in the
// window (policies/<id>@<version>.json), the exception catalog
// (catalog.json), the public key (public-key.pem), the store's
// verification at export (verification.json), the written policy
// (written-policy.html and .md), a summary report (report.html), and
// manifest.json with the SHA-256 of every file, signed with the journal
// key (manifest.sig).
//
// Export streams: records are read page by page and written as they come,
// the AuditEvent Bundle is spilled to a temporary file, and memory does
// not grow with the number of records beyond a few integers each.
// Verify checks a package offline, with no access to the store: the
// manifest's hashes and signature, every chain segment against the signed
// checkpoints (decision/journal/verify), every record against its
// entries, the AuditEvents against the records, and the policy texts
// against the policy-set entries. docs/audit-package.md explains it for
// investigators.
package export
