package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ehigate/ehigate/decision/store"
)

// PutCheckpoint implements store.Store.
func (s *Store) PutCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO checkpoints (chain, seq, hash, at, sealed, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (chain, seq) DO UPDATE SET hash = excluded.hash, at = excluded.at, sealed = excluded.sealed,
			key_id = excluded.key_id, signature = excluded.signature`,
		cp.Chain, int64(cp.Seq), cp.Hash, cp.At, cp.Sealed, cp.KeyID, cp.Signature)
	if err != nil {
		return fmt.Errorf("postgres: put checkpoint: %w", err)
	}
	return nil
}

// Checkpoints implements store.Store, a page at a time with no
// connection held while fn runs.
func (s *Store) Checkpoints(ctx context.Context, chain string, from uint64, fn func(store.Checkpoint) error) error {
	const page = 1000
	from = min(from, 1<<63-1)
	for {
		rows, err := s.pool.Query(ctx, `SELECT seq, hash, at, sealed, key_id, signature FROM checkpoints
			WHERE chain = $1 AND seq >= $2 ORDER BY seq LIMIT `+fmt.Sprint(page), chain, int64(from))
		if err != nil {
			return fmt.Errorf("postgres: checkpoints: %w", err)
		}
		cps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Checkpoint, error) {
			cp := store.Checkpoint{Chain: chain}
			var seq int64
			err := row.Scan(&seq, &cp.Hash, &cp.At, &cp.Sealed, &cp.KeyID, &cp.Signature)
			cp.Seq, cp.At = uint64(seq), cp.At.UTC()
			return cp, err
		})
		if err != nil {
			return fmt.Errorf("postgres: checkpoints: %w", err)
		}
		for _, cp := range cps {
			if err := fn(cp); err != nil {
				return err
			}
			from = cp.Seq + 1
		}
		if len(cps) < page {
			return nil
		}
	}
}

// Prune implements store.Store; months left empty are dropped.
func (s *Store) Prune(ctx context.Context, chain string, through uint64) error {
	var cpAt time.Time
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		decided := `SELECT record_id FROM entries WHERE chain = $1 AND seq <= $2 AND kind = 'decision'`
		for _, q := range []string{
			`DELETE FROM record_patients WHERE record_id IN (` + decided + `)`,
			`DELETE FROM records WHERE id IN (` + decided + `)`,
			`DELETE FROM entries WHERE chain = $1 AND seq <= $2`,
		} {
			if _, err := tx.Exec(ctx, q, chain, int64(through)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM checkpoints WHERE chain = $1 AND seq < $2`, chain, int64(through)); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT at FROM checkpoints WHERE chain = $1 AND seq = $2`, chain, int64(through)).Scan(&cpAt)
		if err == pgx.ErrNoRows {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: prune: %w", err)
	}
	if !cpAt.IsZero() {
		return s.parts.dropEmpty(ctx, monthOf(cpAt).toTime())
	}
	return nil
}
