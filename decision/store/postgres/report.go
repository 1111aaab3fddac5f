package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/ehigate/ehigate/decision/store"
)

// reportDialect renders report aggregates for PostgreSQL: the record
// document is decoded once per row (jsonb) when a dimension needs it.
var reportDialect = &store.ReportDialect{
	Dialect: store.Postgres,
	DocJoin: " CROSS JOIN LATERAL (SELECT convert_from(r.doc, 'UTF8')::jsonb AS j) x",
	JSON: func(path ...string) string {
		return "(x.j #>> '{" + strings.Join(path, ",") + "}')"
	},
	Micros: func(text string) string {
		return "(extract(epoch from (" + text + ")::timestamptz) * 1000000)::bigint"
	},
	TimeMicros: func(expr string) string { return "(extract(epoch from " + expr + ") * 1000000)::bigint" },
	Bucket: func(b store.Bucket) string {
		unit := map[store.Bucket]string{store.Day: "day", store.Week: "week", store.Month: "month"}[b]
		return "to_char(date_trunc('" + unit + "', r.received_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
	},
	DataClasses: " CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(x.j -> 'data_classes', '[]'::jsonb)) dc(value)",
}

// Aggregate implements store.Reporter.
func (s *Store) Aggregate(ctx context.Context, q store.Aggregate) ([]store.Group, error) {
	sqlText, args, err := store.AggregateSQL(q, reportDialect)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: aggregate: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanGroups(rows, q)
	if err != nil {
		return nil, fmt.Errorf("postgres: aggregate: %w", err)
	}
	return out, nil
}

// Durations implements store.Reporter.
func (s *Store) Durations(ctx context.Context, q store.DurationQuery) ([]store.DurationStats, error) {
	sqlText, args, err := store.DurationsSQL(q, reportDialect)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: durations: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanDurations(rows, q)
	if err != nil {
		return nil, fmt.Errorf("postgres: durations: %w", err)
	}
	return out, nil
}
