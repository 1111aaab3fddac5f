package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// micro stores a time as Unix microseconds, 0 for the zero time.
func micro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// PutHold implements store.HoldStore.
func (s *Store) PutHold(ctx context.Context, h *store.Hold) error {
	h.Version = 1
	doc, err := store.HoldDoc(h)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO holds (id, record_id, state, created_at, due_at, version, doc, req_body, resp_body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ID, h.RecordID, string(h.State), micro(h.CreatedAt), micro(h.DueAt), h.Version, doc, h.Request.Body, h.RespBody())
	if err != nil {
		return fmt.Errorf("sqlite: put hold: %w", err)
	}
	return nil
}

// Hold implements store.HoldStore.
func (s *Store) Hold(ctx context.Context, id string) (store.Hold, error) {
	var doc, req, resp []byte
	var version int64
	err := s.r.QueryRowContext(ctx, `SELECT doc, req_body, resp_body, version FROM holds WHERE id = ?`, id).Scan(&doc, &req, &resp, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Hold{}, fmt.Errorf("sqlite: hold %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Hold{}, fmt.Errorf("sqlite: hold: %w", err)
	}
	return store.DecodeHold(doc, req, resp, version)
}

// Holds implements store.HoldStore.
func (s *Store) Holds(ctx context.Context, q store.HoldQuery) ([]store.Hold, error) {
	var where []string
	var args []any
	if len(q.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(q.States)-1)+")")
		for _, st := range q.States {
			args = append(args, string(st))
		}
	}
	if !q.DueBy.IsZero() {
		where = append(where, "due_at > 0 AND due_at <= ?")
		args = append(args, q.DueBy.UnixMicro())
	}
	query := `SELECT doc, version FROM holds`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY created_at, id LIMIT %d", q.PageLimit())
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: holds: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanHoldList(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: holds: %w", err)
	}
	return out, nil
}

// UpdateHold implements store.HoldStore.
func (s *Store) UpdateHold(ctx context.Context, h *store.Hold) error {
	if h.Partial {
		return fmt.Errorf("sqlite: update hold %s: a listed hold has no bodies; read it with Hold", h.ID)
	}
	doc, err := store.HoldDoc(h)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE holds SET state = ?, due_at = ?, version = version + 1, doc = ?, req_body = ?, resp_body = ?
		WHERE id = ? AND version = ?`,
		string(h.State), micro(h.DueAt), doc, h.Request.Body, h.RespBody(), h.ID, h.Version)
	if err != nil {
		return fmt.Errorf("sqlite: update hold: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update hold: %w", err)
	} else if n == 0 {
		var one int
		if err := s.w.QueryRowContext(ctx, `SELECT 1 FROM holds WHERE id = ?`, h.ID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: hold %s: %w", h.ID, store.ErrNotFound)
		}
		return fmt.Errorf("sqlite: hold %s: %w", h.ID, store.ErrHoldConflict)
	}
	h.Version++
	return nil
}

// PruneHolds implements store.HoldStore.
func (s *Store) PruneHolds(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM holds WHERE state IN (?, ?) AND created_at < ?`,
		string(store.HoldFulfilled), string(store.HoldExpired), micro(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune holds: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune holds: %w", err)
	}
	return n, nil
}
