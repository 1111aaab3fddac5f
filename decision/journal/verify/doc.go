// Package verify checks a decision journal as an auditor would: it
// recomputes every hash chain, checks each signed checkpoint against the
// entries it covers, and recomputes every record of the projection from
// its decision and completion entries. It reports the first break of each
// chain with its reason: an entry edited, deleted, inserted or reordered,
// a chain truncated below a signed checkpoint, a checkpoint that does not
// verify, or a projection row edited, deleted or inserted without its
// entries.
package verify
