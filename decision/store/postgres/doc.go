// Package postgres is the scale-out record store on PostgreSQL (pgx):
// many gateway replicas write at once, each to its own chain. Each group
// commit is one transaction: the chain head is advanced with an
// optimistic check (a second writer of a chain gets
// store.ErrChainConflict), entries are written with COPY, and record
// projections and the patient index with one batched upsert each.
//
// entries, records and record_patients are partitioned by month on time;
// partitions are created ahead (and on demand for older or later times),
// and emptied months are dropped after retention prunes them. The schema
// is migrated in versioned steps recorded in schema_migrations, under an
// advisory lock so that replicas starting together migrate once.
package postgres
