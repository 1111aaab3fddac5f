package store

import (
	"database/sql"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// Rows is what the scanners of this file read: *sql.Rows and pgx.Rows
// both are, so that the SQL stores share the reading of their answers.
// Their callers wrap the errors with the store's prefix.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanRecords reads the rows of the RecordsSQL query of q (doc, spooled)
// and returns the page and the cursor of the next one ("" when none).
func ScanRecords(rows Rows, q Query) ([]decision.Record, string, error) {
	limit := q.PageLimit()
	out := make([]decision.Record, 0, min(limit, 256))
	for rows.Next() {
		var doc []byte
		var spooled bool
		if err := rows.Scan(&doc, &spooled); err != nil {
			return nil, "", err
		}
		r, err := DecodeRecord(doc, spooled)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = EncodeCursor(last.ReceivedAt.UnixMicro(), last.ID)
	}
	return out, next, nil
}

// ScanGroups reads the rows of the AggregateSQL query of q, sorted with
// SortGroups. A row counting no record (an aggregate with no dimension
// over no record) is no group.
func ScanGroups(rows Rows, q Aggregate) ([]Group, error) {
	var out []Group
	keys := make([]sql.NullString, len(q.By))
	dest := make([]any, 0, len(q.By)+4)
	for i := range keys {
		dest = append(dest, &keys[i])
	}
	var count int64
	var first, last sql.NullInt64
	var example sql.NullString
	dest = append(dest, &count, &first, &last, &example)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if count == 0 {
			continue
		}
		g := Group{Keys: make([]string, len(keys)), Count: count, Example: example.String,
			First: time.UnixMicro(first.Int64).UTC(), Last: time.UnixMicro(last.Int64).UTC()}
		for i, k := range keys {
			g.Keys[i] = k.String
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	SortGroups(out)
	return out, nil
}

// ScanHoldList reads the rows of a hold list (doc, version): holds
// without their bodies (Partial).
func ScanHoldList(rows Rows) ([]Hold, error) {
	var out []Hold
	for rows.Next() {
		var doc []byte
		var version int64
		if err := rows.Scan(&doc, &version); err != nil {
			return nil, err
		}
		h, err := DecodeHold(doc, nil, nil, version)
		if err != nil {
			return nil, err
		}
		h.Partial = true
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
