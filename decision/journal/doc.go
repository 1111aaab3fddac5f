// Package journal is the decision journal: every entry is appended to its
// writer's hash chain (each entry's hash covers the one before it) and
// written with group commit, so that concurrent requests share one durable
// write while each waits for its own entry to be on disk.
package journal
