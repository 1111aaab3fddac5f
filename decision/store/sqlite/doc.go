// Package sqlite is the embedded record store: one SQLite file (pure Go
// driver, WAL mode, synchronous=FULL so that a commit is on disk when it
// returns), created with mode 0600, with versioned schema migrations.
package sqlite
