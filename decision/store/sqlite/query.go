package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Records implements store.Store.
func (s *Store) Records(ctx context.Context, q store.Query) ([]decision.Record, string, error) {
	sqlText, args, err := buildQuery(q)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: records: %w", err)
	}
	defer rows.Close()
	limit := q.PageLimit()
	out := make([]decision.Record, 0, min(limit, 256))
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, "", fmt.Errorf("sqlite: records: %w", err)
		}
		var r decision.Record
		if err := json.Unmarshal(doc, &r); err != nil {
			return nil, "", fmt.Errorf("sqlite: records: decode: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: records: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor(last.ReceivedAt.UnixMicro(), last.ID)
	}
	return out, next, nil
}

// buildQuery renders q as SQL. Every value is a bound argument.
func buildQuery(q store.Query) (string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	from := "records r"
	if q.Patient != "" {
		from = "record_patients p JOIN records r ON r.id = p.record_id"
		add("p.patient = ?", q.Patient)
	}
	tcol := "r.received_at"
	if q.Patient != "" {
		tcol = "p.received_at"
	}
	if !q.From.IsZero() {
		add(tcol+" >= ?", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add(tcol+" < ?", q.To.UnixMicro())
	}
	for _, f := range [...]struct{ col, v string }{
		{"r.subject", q.Subject}, {"r.client_id", q.ClientID}, {"r.issuer", q.Issuer}, {"r.class", string(q.Class)},
		{"r.interaction", q.Interaction}, {"r.resource_type", q.ResourceType}, {"r.exception", q.Exception},
	} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if len(q.Action) > 0 {
		ph := make([]string, len(q.Action))
		for i, a := range q.Action {
			ph[i] = "?"
			args = append(args, a.String())
		}
		where = append(where, "r.action IN ("+strings.Join(ph, ",")+")")
	}
	if q.Status != 0 {
		add("r.status = ?", q.Status)
	}
	if q.Policy != "" {
		add(`r.policies LIKE ? ESCAPE '\'`, store.Member(q.Policy))
	}
	if q.Flag != "" {
		add(`r.flags LIKE ? ESCAPE '\'`, store.Member(string(q.Flag)))
	}
	order := "DESC"
	cmp := "<"
	if q.Ascending {
		order, cmp = "ASC", ">"
	}
	if q.Cursor != "" {
		t, id, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		add(fmt.Sprintf("(%s, r.id) %s (?, ?)", tcol, cmp), t, id)
	}
	sqlText := "SELECT r.doc FROM " + from
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	sqlText += fmt.Sprintf(" ORDER BY %s %s, r.id %s LIMIT %d", tcol, order, order, q.PageLimit()+1)
	return sqlText, args, nil
}

// Record implements store.Store.
func (s *Store) Record(ctx context.Context, id string) (decision.Record, error) {
	var r decision.Record
	var doc []byte
	err := s.r.QueryRowContext(ctx, `SELECT doc FROM records WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("sqlite: record: %w", store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: record: %w", err)
	}
	if err := json.Unmarshal(doc, &r); err != nil {
		return r, fmt.Errorf("sqlite: record: decode: %w", err)
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
