// Package journal is the decision journal: every entry is appended to its
// writer's hash chain (each entry's hash covers the one before it) and
// written with group commit, so that concurrent requests share one durable
// write while each waits for its own entry to be on disk.
//
// The writer signs its chain head with Ed25519 every so many entries or
// seconds and seals it at shutdown (checkpoints, stored and logged). While
// the store cannot be reached it keeps chaining into a local spool
// (decision/journal/spool) and replays it, in order, when the store
// returns. Retention prunes whole ranges ending at a signed checkpoint;
// decision/journal/verify checks all of it.
package journal
