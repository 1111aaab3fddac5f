// Package store defines where decision records are kept: the Store
// interface, shared by the embedded SQLite store (decision/store/sqlite)
// and the PostgreSQL store (decision/store/postgres), and the Query the
// compliance tools use.
//
// A store keeps two things: the journal entries, append-only and exactly
// as hashed, and a projection of one row per record (the decision merged
// with its completion) indexed for queries. The projection can be rebuilt
// from the entries; the entries are the evidence. Beside them it keeps the
// requests parked by delay policies (HoldStore) until they are answered.
package store
