package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// PutCheckpoint implements store.Store.
func (s *Store) PutCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO checkpoints (chain, seq, hash, at, sealed, key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (chain, seq) DO UPDATE SET hash = excluded.hash, at = excluded.at, sealed = excluded.sealed,
			key_id = excluded.key_id, signature = excluded.signature`,
		cp.Chain, int64(cp.Seq), cp.Hash, cp.At.UnixMicro(), cp.Sealed, cp.KeyID, cp.Signature)
	if err != nil {
		return fmt.Errorf("sqlite: put checkpoint: %w", err)
	}
	return nil
}

// Checkpoints implements store.Store.
func (s *Store) Checkpoints(ctx context.Context, chain string, from uint64, fn func(store.Checkpoint) error) error {
	const page = 1000
	for {
		cps, err := s.checkpointPage(ctx, chain, from, page)
		if err != nil {
			return err
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

func (s *Store) checkpointPage(ctx context.Context, chain string, from uint64, limit int) ([]store.Checkpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, hash, at, sealed, key_id, signature FROM checkpoints
		WHERE chain = ? AND seq >= ? ORDER BY seq LIMIT ?`, chain, int64(from), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []store.Checkpoint
	for rows.Next() {
		cp := store.Checkpoint{Chain: chain}
		var seq, at int64
		if err := rows.Scan(&seq, &cp.Hash, &at, &cp.Sealed, &cp.KeyID, &cp.Signature); err != nil {
			return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
		}
		cp.Seq, cp.At = uint64(seq), time.UnixMicro(at).UTC()
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	return out, nil
}

// Prune implements store.Store.
func (s *Store) Prune(ctx context.Context, chain string, through uint64) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: prune: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	decided := `SELECT record_id FROM entries WHERE chain = ? AND seq <= ? AND kind = 'decision'`
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM record_patients WHERE record_id IN (` + decided + `)`, []any{chain, int64(through)}},
		{`DELETE FROM records WHERE id IN (` + decided + `)`, []any{chain, int64(through)}},
		{`DELETE FROM entries WHERE chain = ? AND seq <= ?`, []any{chain, int64(through)}},
		{`DELETE FROM checkpoints WHERE chain = ? AND seq < ?`, []any{chain, int64(through)}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("sqlite: prune: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: prune: %w", err)
	}
	return nil
}
