package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Records implements store.Store.
func (s *Store) Records(ctx context.Context, q store.Query) ([]decision.Record, string, error) {
	sqlText, args, err := store.RecordsSQL(q, store.SQLite)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: records: %w", err)
	}
	defer rows.Close()
	out, next, err := store.ScanRecords(rows, q)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: records: %w", err)
	}
	return out, next, nil
}

// Record implements store.Store.
func (s *Store) Record(ctx context.Context, id string) (decision.Record, error) {
	var doc []byte
	var spooled bool
	err := s.r.QueryRowContext(ctx, `SELECT doc, spooled FROM records WHERE id = ?`, id).Scan(&doc, &spooled)
	if errors.Is(err, sql.ErrNoRows) {
		return decision.Record{}, fmt.Errorf("sqlite: record: %w", store.ErrNotFound)
	}
	if err != nil {
		return decision.Record{}, fmt.Errorf("sqlite: record: %w", err)
	}
	r, err := store.DecodeRecord(doc, spooled)
	if err != nil {
		return r, fmt.Errorf("sqlite: record: %w", err)
	}
	entries, err := s.RecordEntries(ctx, id)
	if err != nil {
		return r, err
	}
	for _, e := range entries {
		r.Entries = append(r.Entries, decision.EntryRef{Kind: e.Kind, Chain: e.Chain, Seq: e.Seq, At: e.At})
	}
	return r, nil
}
