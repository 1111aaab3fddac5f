package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ehigate/ehigate/decision/store"
)

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// PutHold implements store.HoldStore.
func (s *Store) PutHold(ctx context.Context, h *store.Hold) error {
	h.Version = 1
	doc, err := store.HoldDoc(h)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO holds (id, record_id, state, created_at, due_at, version, doc, req_body, resp_body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		h.ID, h.RecordID, string(h.State), h.CreatedAt, nullTime(h.DueAt), h.Version, doc, h.Request.Body, h.RespBody())
	if err != nil {
		return fmt.Errorf("postgres: put hold: %w", err)
	}
	return nil
}

// Hold implements store.HoldStore.
func (s *Store) Hold(ctx context.Context, id string) (store.Hold, error) {
	var doc, req, resp []byte
	var version int64
	err := s.pool.QueryRow(ctx, `SELECT doc, req_body, resp_body, version FROM holds WHERE id = $1`, id).Scan(&doc, &req, &resp, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Hold{}, fmt.Errorf("postgres: hold %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Hold{}, fmt.Errorf("postgres: hold: %w", err)
	}
	return store.DecodeHold(doc, req, resp, version)
}

// Holds implements store.HoldStore.
func (s *Store) Holds(ctx context.Context, q store.HoldQuery) ([]store.Hold, error) {
	var where []string
	var args []any
	if len(q.States) > 0 {
		states := make([]string, len(q.States))
		for i, st := range q.States {
			states[i] = string(st)
		}
		args = append(args, states)
		where = append(where, "state = ANY($"+strconv.Itoa(len(args))+")")
	}
	if !q.DueBy.IsZero() {
		args = append(args, q.DueBy)
		where = append(where, "due_at IS NOT NULL AND due_at <= $"+strconv.Itoa(len(args)))
	}
	query := `SELECT doc, version FROM holds`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY created_at, id LIMIT %d", q.PageLimit())
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: holds: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanHoldList(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: holds: %w", err)
	}
	return out, nil
}

// UpdateHold implements store.HoldStore: a compare-and-set on the version,
// so that of several replicas acting on one hold only one succeeds.
func (s *Store) UpdateHold(ctx context.Context, h *store.Hold) error {
	if h.Partial {
		return fmt.Errorf("postgres: update hold %s: a listed hold has no bodies; read it with Hold", h.ID)
	}
	doc, err := store.HoldDoc(h)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE holds SET state = $1, due_at = $2, version = version + 1, doc = $3, req_body = $4, resp_body = $5
		WHERE id = $6 AND version = $7`,
		string(h.State), nullTime(h.DueAt), doc, h.Request.Body, h.RespBody(), h.ID, h.Version)
	if err != nil {
		return fmt.Errorf("postgres: update hold: %w", err)
	}
	if tag.RowsAffected() == 0 {
		var one int
		if err := s.pool.QueryRow(ctx, `SELECT 1 FROM holds WHERE id = $1`, h.ID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: hold %s: %w", h.ID, store.ErrNotFound)
		}
		return fmt.Errorf("postgres: hold %s: %w", h.ID, store.ErrHoldConflict)
	}
	h.Version++
	return nil
}

// PruneHolds implements store.HoldStore.
func (s *Store) PruneHolds(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM holds WHERE state IN ($1, $2) AND created_at < $3`,
		string(store.HoldFulfilled), string(store.HoldExpired), before)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune holds: %w", err)
	}
	return tag.RowsAffected(), nil
}
