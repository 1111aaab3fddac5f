package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DurationQuery asks for the time from request to fulfilment: from
// received_at to fulfilled_at, or, for a request held by a delay policy
// (action delay with a hold), to when the requester collected the
// answer. Held requests not collected yet have no duration.
type DurationQuery struct {
	Filter ReportFilter
	// By groups the records ("" for one group; not DimPatient or
	// DimDataClass).
	By Dimension
	// Permille are the percentiles wanted, in thousandths (500 is the
	// median); nearest rank, as PostgreSQL's percentile_disc.
	Permille []int
	// Buckets, ascending, are the upper bounds (inclusive) of a histogram
	// of the durations: DurationStats.Histogram[i] counts those in
	// (Buckets[i-1], Buckets[i]], and its last element those above the
	// last bound.
	Buckets []time.Duration
}

// DurationStats are the durations of one group.
type DurationStats struct {
	Key string
	// Held is set for the requests held by a delay policy.
	Held  bool
	Count int64
	// Percentiles match DurationQuery.Permille.
	Percentiles []time.Duration
	Max         time.Duration
	// Histogram has len(DurationQuery.Buckets)+1 counts (nil without
	// buckets).
	Histogram []int64
}

// DurationsSQL renders q as one query returning, per group and held
// flag (0 or 1), the key, the flag, the count, each percentile and the
// maximum, in microseconds, then the histogram's counts, ordered by key
// and flag.
func DurationsSQL(q DurationQuery, d *ReportDialect) (string, []any, error) {
	key := "''"
	if q.By != "" {
		if q.By == DimPatient || q.By == DimDataClass {
			return "", nil, fmt.Errorf("%w: durations by %s", ErrBadAggregate, q.By)
		}
		e, err := d.dimExpr(q.By, Day)
		if err != nil {
			return "", nil, err
		}
		key = e
	}
	for _, pm := range q.Permille {
		if pm < 1 || pm > 1000 {
			return "", nil, fmt.Errorf("%w: percentile %d‰", ErrBadAggregate, pm)
		}
	}
	for i, b := range q.Buckets {
		if b < 0 || i > 0 && b <= q.Buckets[i-1] {
			return "", nil, fmt.Errorf("%w: histogram bounds must be ascending and not negative", ErrBadAggregate)
		}
	}
	from, where, args := d.reportFrom(q.Filter, []Dimension{DimHoldState}) // needs the document
	holdID := d.JSON("hold", "id")
	held := fmt.Sprintf("(r.action = 'delay' AND %s IS NOT NULL)", holdID)
	collected, fulfilled := d.JSON("hold", "collected_at"), d.JSON("fulfilled_at")
	dur := fmt.Sprintf("CASE WHEN %[1]s THEN %[2]s - %[4]s ELSE %[3]s - %[4]s END",
		held, d.Micros(collected), d.Micros(fulfilled), d.TimeMicros("r.received_at"))
	var b strings.Builder
	fmt.Fprintf(&b, "WITH d AS (SELECT %s AS k, CASE WHEN %s THEN 1 ELSE 0 END AS h, %s AS dur FROM %s", key, held, dur, from)
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	b.WriteString("), o AS (SELECT k, h, dur, row_number() OVER (PARTITION BY k, h ORDER BY dur) AS rn, count(*) OVER (PARTITION BY k, h) AS n FROM d WHERE dur IS NOT NULL)")
	b.WriteString(" SELECT coalesce(k, ''), h, n")
	for _, pm := range q.Permille {
		fmt.Fprintf(&b, ", coalesce(min(CASE WHEN rn = (%d * n + 999) / 1000 THEN dur END), 0)", pm)
	}
	b.WriteString(", max(dur)")
	for i, ub := range q.Buckets {
		cond := fmt.Sprintf("dur <= %d", ub.Microseconds())
		if i > 0 {
			cond = fmt.Sprintf("dur > %d AND %s", q.Buckets[i-1].Microseconds(), cond)
		}
		fmt.Fprintf(&b, ", sum(CASE WHEN %s THEN 1 ELSE 0 END)", cond)
	}
	if n := len(q.Buckets); n > 0 {
		fmt.Fprintf(&b, ", sum(CASE WHEN dur > %d THEN 1 ELSE 0 END)", q.Buckets[n-1].Microseconds())
	}
	b.WriteString(" FROM o GROUP BY k, h, n ORDER BY k, h")
	return b.String(), args, nil
}

// ScanDurations reads the rows of the DurationsSQL query of q, sorted
// with SortDurations.
func ScanDurations(rows Rows, q DurationQuery) ([]DurationStats, error) {
	var out []DurationStats
	for rows.Next() {
		var key string
		var held, n, maxUS int64
		ps := make([]int64, len(q.Permille))
		dest := []any{&key, &held, &n}
		for i := range ps {
			dest = append(dest, &ps[i])
		}
		dest = append(dest, &maxUS)
		var hist []int64
		if len(q.Buckets) > 0 {
			hist = make([]int64, len(q.Buckets)+1)
			for i := range hist {
				dest = append(dest, &hist[i])
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		st := DurationStats{Key: key, Held: held == 1, Count: n, Max: time.Duration(maxUS) * time.Microsecond, Histogram: hist}
		for _, p := range ps {
			st.Percentiles = append(st.Percentiles, time.Duration(p)*time.Microsecond)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	SortDurations(out)
	return out, nil
}

// SortDurations orders duration groups by key in byte order, then
// requests not held first.
func SortDurations(ds []DurationStats) {
	slices.SortStableFunc(ds, func(a, b DurationStats) int {
		if c := cmp.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		switch {
		case a.Held == b.Held:
			return 0
		case b.Held:
			return -1
		}
		return 1
	})
}
