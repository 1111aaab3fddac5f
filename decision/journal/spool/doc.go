// Package spool is the journal's local, append-only spool: while the
// record store cannot be reached, each group commit is written here and
// fsync'd before anyone is told it is durable, then replayed into the
// store, in order, when the store returns.
//
// A spool is a folder of segment files (mode 0600) locked by one process.
// Each segment starts with a magic string; each spool record is framed as
// a big-endian uint32 body length, a CRC-32C of the body, and the body. A
// record cut short by a crash at the end of the last segment was never
// acknowledged and is dropped when the spool is opened; damage anywhere
// else is reported as ErrCorrupt.
package spool
