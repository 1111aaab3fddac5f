package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each once and in its own transaction;
// the version is its index+1. Never edit a released migration: add one.
// Text keys use the "C" collation so that ordering is byte order, the
// same as Go's.
var migrations = []string{
	// 1: chains, entries, record projection, patient index, checkpoints,
	// learned links.
	`CREATE TABLE journal_chains (
		chain    text COLLATE "C" PRIMARY KEY,
		seq      bigint      NOT NULL,
		hash     text        NOT NULL,
		first_at timestamptz NOT NULL,
		last_at  timestamptz NOT NULL
	);
	CREATE TABLE entries (
		chain     text COLLATE "C" NOT NULL,
		seq       bigint      NOT NULL,
		kind      text        NOT NULL,
		record_id text COLLATE "C" NOT NULL DEFAULT '',
		at        timestamptz NOT NULL,
		payload   bytea       NOT NULL,
		prev_hash text        NOT NULL,
		hash      text        NOT NULL,
		PRIMARY KEY (chain, seq, at)
	) PARTITION BY RANGE (at);
	CREATE INDEX entries_record ON entries (record_id, chain, seq) WHERE record_id <> '';
	CREATE TABLE records (
		id            text COLLATE "C" NOT NULL,
		received_at   timestamptz NOT NULL,
		action        text    NOT NULL,
		interaction   text    NOT NULL,
		resource_type text    NOT NULL,
		subject       text    NOT NULL,
		client_id     text    NOT NULL,
		issuer        text    NOT NULL,
		class         text    NOT NULL,
		status        integer NOT NULL,
		exception     text    NOT NULL,
		flags         text    NOT NULL,
		policies      text    NOT NULL,
		doc           bytea   NOT NULL,
		spooled       boolean NOT NULL DEFAULT false,
		PRIMARY KEY (id, received_at)
	) PARTITION BY RANGE (received_at);
	CREATE INDEX records_time        ON records (received_at, id);
	CREATE INDEX records_action      ON records (action, received_at);
	CREATE INDEX records_subject     ON records (subject, received_at);
	CREATE INDEX records_client      ON records (client_id, received_at);
	CREATE INDEX records_class       ON records (class, received_at);
	CREATE INDEX records_interaction ON records (interaction, received_at);
	CREATE INDEX records_type        ON records (resource_type, received_at);
	CREATE INDEX records_exception   ON records (exception, received_at) WHERE exception <> '';
	CREATE TABLE record_patients (
		patient     text COLLATE "C" NOT NULL,
		received_at timestamptz NOT NULL,
		record_id   text COLLATE "C" NOT NULL,
		PRIMARY KEY (patient, received_at, record_id)
	) PARTITION BY RANGE (received_at);
	CREATE INDEX record_patients_record ON record_patients (record_id, patient);
	CREATE TABLE checkpoints (
		chain     text COLLATE "C" NOT NULL,
		seq       bigint      NOT NULL,
		hash      text        NOT NULL,
		at        timestamptz NOT NULL,
		sealed    boolean     NOT NULL,
		key_id    text        NOT NULL,
		signature text        NOT NULL,
		PRIMARY KEY (chain, seq)
	);
	CREATE TABLE links (
		path      text PRIMARY KEY,
		kind      text        NOT NULL,
		record_id text        NOT NULL,
		owner     text        NOT NULL,
		expires   timestamptz NOT NULL
	);`,
	// 2: parked requests (delay policies in hold form).
	`CREATE TABLE holds (
		id         text COLLATE "C" PRIMARY KEY,
		record_id  text        NOT NULL,
		state      text        NOT NULL,
		created_at timestamptz NOT NULL,
		due_at     timestamptz,
		version    bigint      NOT NULL,
		doc        bytea       NOT NULL,
		req_body   bytea,
		resp_body  bytea
	);
	CREATE INDEX holds_due   ON holds (due_at) WHERE due_at IS NOT NULL;
	CREATE INDEX holds_state ON holds (state, created_at);`,
	// 3: partial indexes of the records carrying each flag compliance
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
	CREATE INDEX records_spooled ON records (received_at, id) WHERE spooled;`,
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// lockKey names the advisory locks of one schema.
const lockKey = `hashtext(current_schema() || '.ehigate')`

func migrate(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(`+lockKey+`)`)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("postgres: database schema version %d is newer than this build's %d", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %d: %w", i+1, err)
		}
	}
	return nil
}
