package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; each runs once, in its own
// transaction, and its index+1 is recorded as the schema version. Never
// edit a released migration: add one.
var migrations = []string{
	// 1: journal entries, record projection, patients index, learned links.
	`CREATE TABLE entries (
		chain     TEXT    NOT NULL,
		seq       INTEGER NOT NULL,
		kind      TEXT    NOT NULL,
		record_id TEXT    NOT NULL DEFAULT '',
		at        INTEGER NOT NULL,
		payload   BLOB    NOT NULL,
		prev_hash TEXT    NOT NULL,
		hash      TEXT    NOT NULL,
		PRIMARY KEY (chain, seq)
	);
	CREATE INDEX entries_record ON entries (record_id) WHERE record_id <> '';
	CREATE TABLE records (
		id            TEXT    PRIMARY KEY,
		received_at   INTEGER NOT NULL,
		action        TEXT    NOT NULL,
		interaction   TEXT    NOT NULL,
		resource_type TEXT    NOT NULL,
		subject       TEXT    NOT NULL,
		client_id     TEXT    NOT NULL,
		issuer        TEXT    NOT NULL,
		class         TEXT    NOT NULL,
		status        INTEGER NOT NULL,
		exception     TEXT    NOT NULL,
		flags         TEXT    NOT NULL,
		policies      TEXT    NOT NULL,
		doc           BLOB    NOT NULL
	);
	CREATE INDEX records_time        ON records (received_at, id);
	CREATE INDEX records_action      ON records (action, received_at);
	CREATE INDEX records_subject     ON records (subject, received_at);
	CREATE INDEX records_client      ON records (client_id, received_at);
	CREATE INDEX records_class       ON records (class, received_at);
	CREATE INDEX records_exception   ON records (exception, received_at) WHERE exception <> '';
	CREATE TABLE record_patients (
		patient     TEXT    NOT NULL,
		received_at INTEGER NOT NULL,
		record_id   TEXT    NOT NULL,
		PRIMARY KEY (patient, received_at, record_id)
	) WITHOUT ROWID;
	CREATE TABLE links (
		path      TEXT    PRIMARY KEY,
		kind      TEXT    NOT NULL,
		record_id TEXT    NOT NULL,
		owner     TEXT    NOT NULL,
		expires   INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// 2: signed checkpoints, the spooled annotation, and the patient index
	// by record (verification and retention read it that way).
	`CREATE TABLE checkpoints (
		chain     TEXT    NOT NULL,
		seq       INTEGER NOT NULL,
		hash      TEXT    NOT NULL,
		at        INTEGER NOT NULL,
		sealed    INTEGER NOT NULL,
		key_id    TEXT    NOT NULL,
		signature TEXT    NOT NULL,
		PRIMARY KEY (chain, seq)
	) WITHOUT ROWID;
	ALTER TABLE records ADD COLUMN spooled INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX record_patients_record ON record_patients (record_id);`,
	// 3: parked requests (delay policies in hold form).
	`CREATE TABLE holds (
		id         TEXT    PRIMARY KEY,
		record_id  TEXT    NOT NULL,
		state      TEXT    NOT NULL,
		created_at INTEGER NOT NULL,
		due_at     INTEGER NOT NULL,
		version    INTEGER NOT NULL,
		doc        BLOB    NOT NULL,
		req_body   BLOB,
		resp_body  BLOB
	);
	CREATE INDEX holds_due   ON holds (due_at) WHERE due_at > 0;
	CREATE INDEX holds_state ON holds (state, created_at);`,
	// 4: partial indexes of the records carrying each flag compliance
	// staff query (store.IndexedFlags; the condition is the one
	// store.FlagCondition writes), so that a rare flag is found without
	// scanning the projection.
	`CREATE INDEX records_flag_review_overdue ON records (received_at, id) WHERE flags LIKE '%,review-overdue,%' ESCAPE '\';
	CREATE INDEX records_flag_policy_lapsed ON records (received_at, id) WHERE flags LIKE '%,policy-lapsed,%' ESCAPE '\';
	CREATE INDEX records_flag_upstream_restriction ON records (received_at, id) WHERE flags LIKE '%,upstream-restriction,%' ESCAPE '\';
	CREATE INDEX records_flag_undocumented ON records (received_at, id) WHERE flags LIKE '%,undocumented,%' ESCAPE '\';
	CREATE INDEX records_flag_notice_required ON records (received_at, id) WHERE flags LIKE '%,notice-required,%' ESCAPE '\';
	CREATE INDEX records_flag_notice_sent ON records (received_at, id) WHERE flags LIKE '%,notice-sent,%' ESCAPE '\';
	CREATE INDEX records_flag_response_not_filtered ON records (received_at, id) WHERE flags LIKE '%,response-not-filtered,%' ESCAPE '\';
	CREATE INDEX records_flag_response_not_inspected ON records (received_at, id) WHERE flags LIKE '%,response-not-inspected,%' ESCAPE '\';
	CREATE INDEX records_flag_upstream_error ON records (received_at, id) WHERE flags LIKE '%,upstream-error,%' ESCAPE '\';
	CREATE INDEX records_flag_throttle_store_failure ON records (received_at, id) WHERE flags LIKE '%,throttle-store-failure,%' ESCAPE '\';
	CREATE INDEX records_flag_body_not_inspected ON records (received_at, id) WHERE flags LIKE '%,body-not-inspected,%' ESCAPE '\';
	CREATE INDEX records_flag_client_disconnected ON records (received_at, id) WHERE flags LIKE '%,client-disconnected,%' ESCAPE '\';
	CREATE INDEX records_spooled ON records (received_at, id) WHERE spooled <> 0;`,
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	var v int
	err := db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	switch {
	case err == sql.ErrNoRows:
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	case err != nil:
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this build's %d", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, i+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", i+1, err)
		}
	}
	return nil
}
