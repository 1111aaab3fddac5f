package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/ehigate/ehigate/decision/store"
)

// reportDialect renders report aggregates for SQLite: times are Unix
// microseconds, the record document is read with the JSON functions
// (fractional seconds of times inside it to the millisecond).
var reportDialect = &store.ReportDialect{
	Dialect: store.SQLite,
	JSON: func(path ...string) string {
		return "CAST(CAST(r.doc AS TEXT) ->> '$." + strings.Join(path, ".") + "' AS TEXT)"
	},
	Micros: func(text string) string {
		return "CAST(round(unixepoch(" + text + ", 'subsec') * 1000000) AS INTEGER)"
	},
	TimeMicros: func(expr string) string { return expr }, // stored as Unix microseconds
	Bucket: func(b store.Bucket) string {
		switch b {
		case store.Week:
			return "date(r.received_at / 1000000, 'unixepoch', 'weekday 0', '-6 days')"
		case store.Month:
			return "strftime('%Y-%m-01', r.received_at / 1000000, 'unixepoch')"
		}
		return "strftime('%Y-%m-%d', r.received_at / 1000000, 'unixepoch')"
	},
	DataClasses: ", json_each(CAST(r.doc AS TEXT), '$.data_classes') dc",
}

// Aggregate implements store.Reporter.
func (s *Store) Aggregate(ctx context.Context, q store.Aggregate) ([]store.Group, error) {
	sqlText, args, err := store.AggregateSQL(q, reportDialect)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: aggregate: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanGroups(rows, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: aggregate: %w", err)
	}
	return out, nil
}

// Durations implements store.Reporter.
func (s *Store) Durations(ctx context.Context, q store.DurationQuery) ([]store.DurationStats, error) {
	sqlText, args, err := store.DurationsSQL(q, reportDialect)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: durations: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanDurations(rows, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: durations: %w", err)
	}
	return out, nil
}
