package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// ErrBadAggregate: an aggregate or duration query names an unknown
// dimension or bucket.
var ErrBadAggregate = errors.New("store: bad aggregate query")

// Reporter computes the aggregates reports are made of in the store, so
// that a report over millions of records reads a few hundred rows.
type Reporter interface {
	// Aggregate counts the records matching q.Filter, grouped by q.By.
	Aggregate(ctx context.Context, q Aggregate) ([]Group, error)
	// Durations returns the percentiles of the time from request to
	// fulfilment of the records matching q.Filter, grouped by q.By and
	// by whether the request was held.
	Durations(ctx context.Context, q DurationQuery) ([]DurationStats, error)
}

// ReportFilter selects the records a report counts. Zero fields do not
// filter.
type ReportFilter struct {
	// From and To bound received_at: [From, To).
	From, To time.Time
	// Actions keeps records whose action is one of them.
	Actions []decision.Action
	// Flags keeps records carrying every one of them; NotFlags drops
	// records carrying any of them.
	Flags, NotFlags []decision.Flag
	// Patient, Subject and Policy narrow to one patient, one requester
	// (token subject) or one policy id, as an audit package's filter does.
	Patient, Subject, Policy string
}

// Dimension is what records are grouped by.
type Dimension string

// The dimensions. Keys are strings: "" where a record has no value.
const (
	// DimBucket is the UTC start date (2006-01-02) of the record's time
	// bucket (Aggregate.Bucket).
	DimBucket Dimension = "bucket"
	// DimID is the record id (one group per record: a listing).
	DimID           Dimension = "id"
	DimAction       Dimension = "action"
	DimException    Dimension = "exception"
	DimClass        Dimension = "class"
	DimResourceType Dimension = "resource_type"
	DimInteraction  Dimension = "interaction"
	DimSubject      Dimension = "subject"
	DimClientID     Dimension = "client_id"
	DimIssuer       Dimension = "issuer"
	// DimPolicies is the record's policy ids as a List (",a,b,").
	DimPolicies Dimension = "policies"
	// DimPatient is one patient of the record: a record naming several
	// patients counts in the group of each; one naming none in no group.
	DimPatient Dimension = "patient"
	// DimDataClass is one USCDI data class of the record, like DimPatient.
	DimDataClass Dimension = "data_class"
	// DimUpstreamStatus is the upstream's status code ("" when not asked).
	DimUpstreamStatus Dimension = "upstream_status"
	// DimReason is the record's reason code.
	DimReason Dimension = "reason"
	// DimHoldState is the state of a held request (hold.state).
	DimHoldState Dimension = "hold_state"
	// DimNoticeDueAt is the due time of the record's notice item (RFC
	// 3339, as stored).
	DimNoticeDueAt Dimension = "notice_due_at"
	// DimNoticeSent is "" for an open notice item, "on-time" or "late" for
	// one marked sent before or after its due time.
	DimNoticeSent Dimension = "notice_sent"
)

// jsonDims are the dimensions read from the record document.
var jsonDims = map[Dimension]bool{DimUpstreamStatus: true, DimReason: true, DimHoldState: true, DimNoticeDueAt: true, DimNoticeSent: true, DimDataClass: true}

// Bucket is the width of DimBucket's time buckets.
type Bucket string

// The buckets (UTC; weeks start on Monday).
const (
	Day   Bucket = "day"
	Week  Bucket = "week"
	Month Bucket = "month"
)

// Valid reports whether b is a known bucket.
func (b Bucket) Valid() bool { return b == Day || b == Week || b == Month }

// Aggregate is a grouped count of records.
type Aggregate struct {
	Filter ReportFilter
	// By are the grouping dimensions, in the order of Group.Keys.
	By []Dimension
	// Bucket is the width of DimBucket (default Day).
	Bucket Bucket
	// MinCount drops groups of fewer records.
	MinCount int
	// Limit keeps the largest groups only (0: all).
	Limit int
}

// Group is one group of an Aggregate, largest first (ties by keys).
type Group struct {
	Keys  []string
	Count int64
	// First and Last are the earliest and latest received_at.
	First, Last time.Time
	// Example is the greatest record id of the group: with ULIDs, the
	// latest record.
	Example string
}

// ReportDialect is what differs between the SQL stores in aggregates.
type ReportDialect struct {
	Dialect
	// DocJoin makes the record document (JSON) available to JSON
	// expressions, appended to the FROM clause ("" when none is needed).
	DocJoin string
	// JSON returns the text at a path of the document, NULL when absent.
	JSON func(path ...string) string
	// Micros converts a text expression holding an RFC 3339 time to Unix
	// microseconds.
	Micros func(text string) string
	// TimeMicros converts an expression of received_at's type (such as
	// min(r.received_at)) to Unix microseconds.
	TimeMicros func(expr string) string
	// Bucket is the start date (2006-01-02 text) of r.received_at's bucket.
	Bucket func(b Bucket) string
	// DataClasses is a FROM-clause addition yielding dc.value, one row
	// per data class of the record.
	DataClasses string
}

// dimExpr returns the SQL of a dimension.
func (d *ReportDialect) dimExpr(dim Dimension, b Bucket) (string, error) {
	col := map[Dimension]string{
		DimID: "r.id", DimAction: "r.action", DimException: "r.exception", DimClass: "r.class",
		DimResourceType: "r.resource_type", DimInteraction: "r.interaction", DimSubject: "r.subject",
		DimClientID: "r.client_id", DimIssuer: "r.issuer", DimPolicies: "r.policies", DimPatient: "p.patient",
		DimDataClass: "dc.value",
	}
	if c, ok := col[dim]; ok {
		return c, nil
	}
	switch dim {
	case DimBucket:
		if b == "" {
			b = Day
		}
		if !b.Valid() {
			return "", fmt.Errorf("%w: bucket %q", ErrBadAggregate, b)
		}
		return d.Bucket(b), nil
	case DimUpstreamStatus:
		return "coalesce(" + d.JSON("upstream_status") + ", '')", nil
	case DimReason:
		return "coalesce(" + d.JSON("reason") + ", '')", nil
	case DimHoldState:
		return "coalesce(" + d.JSON("hold", "state") + ", '')", nil
	case DimNoticeDueAt:
		return "coalesce(" + d.JSON("notice", "due_at") + ", '')", nil
	case DimNoticeSent:
		sent, due := d.JSON("notice", "sent_at"), d.JSON("notice", "due_at")
		return fmt.Sprintf("CASE WHEN %s IS NULL THEN '' WHEN %s > %s THEN 'late' ELSE 'on-time' END", sent, d.Micros(sent), d.Micros(due)), nil
	}
	return "", fmt.Errorf("%w: dimension %q", ErrBadAggregate, dim)
}

// reportFrom renders the FROM clause and WHERE conditions of a filter
// for the dimensions used.
func (d *ReportDialect) reportFrom(f ReportFilter, dims []Dimension) (from string, where []string, args []any) {
	add := func(cond string, a ...any) {
		for _, v := range a {
			args = append(args, v)
			cond = strings.Replace(cond, "?", d.Placeholder(len(args)), 1)
		}
		where = append(where, cond)
	}
	usesPatient, usesJSON, usesDC := f.Patient != "", false, false
	for _, dim := range dims {
		usesPatient = usesPatient || dim == DimPatient
		usesJSON = usesJSON || jsonDims[dim]
		usesDC = usesDC || dim == DimDataClass
	}
	var b strings.Builder
	tcol := "r.received_at"
	if usesPatient {
		b.WriteString("record_patients p JOIN records r ON r.id = p.record_id AND r.received_at = p.received_at")
		tcol = "p.received_at"
	} else {
		b.WriteString("records r")
	}
	if usesJSON || usesDC {
		b.WriteString(d.DocJoin)
	}
	if usesDC {
		b.WriteString(d.DataClasses)
	}
	if f.Patient != "" {
		add("p.patient = ?", f.Patient)
	}
	if !f.From.IsZero() {
		add(tcol+" >= ?", d.Time(f.From.UnixMicro()))
	}
	if !f.To.IsZero() {
		add(tcol+" < ?", d.Time(f.To.UnixMicro()))
	}
	if len(f.Actions) > 0 {
		ph := make([]string, len(f.Actions))
		as := make([]any, len(f.Actions))
		for i, a := range f.Actions {
			ph[i], as[i] = "?", a.String()
		}
		add("r.action IN ("+strings.Join(ph, ",")+")", as...)
	}
	if f.Subject != "" {
		add("r.subject = ?", f.Subject)
	}
	if f.Policy != "" {
		add(`r.policies LIKE ? ESCAPE '\'`, Member(f.Policy))
	}
	for _, fl := range f.Flags {
		if fl == decision.FlagSpooled {
			add("(" + d.Spooled + ")")
			continue
		}
		cond, a := FlagCondition(fl)
		add(cond, a...)
	}
	for _, fl := range f.NotFlags {
		if fl == decision.FlagSpooled {
			add("NOT (" + d.Spooled + ")")
			continue
		}
		cond, a := FlagCondition(fl)
		add("NOT ("+cond+")", a...)
	}
	return b.String(), where, args
}

// AggregateSQL renders q as one SELECT returning, per group, its keys
// (text, in q.By order), the count, the least and greatest received_at
// in Unix microseconds and the greatest record id (read by ScanGroups). Every value is a bound argument.
func AggregateSQL(q Aggregate, d *ReportDialect) (string, []any, error) {
	exprs := make([]string, len(q.By))
	for i, dim := range q.By {
		e, err := d.dimExpr(dim, q.Bucket)
		if err != nil {
			return "", nil, err
		}
		exprs[i] = e
	}
	from, where, args := d.reportFrom(q.Filter, q.By)
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, e := range exprs {
		b.WriteString(e)
		b.WriteString(", ")
	}
	fmt.Fprintf(&b, "count(*), %s, %s, max(r.id) FROM ", d.TimeMicros("min(r.received_at)"), d.TimeMicros("max(r.received_at)"))
	b.WriteString(from)
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if len(exprs) > 0 {
		b.WriteString(" GROUP BY ")
		for i := range exprs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d", i+1)
		}
	}
	if q.MinCount > 1 {
		fmt.Fprintf(&b, " HAVING count(*) >= %d", q.MinCount)
	}
	b.WriteString(" ORDER BY count(*) DESC")
	for i := range exprs {
		fmt.Fprintf(&b, ", %d", i+1)
	}
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	return b.String(), args, nil
}

// SortGroups orders groups as Aggregate returns them: largest first, then
// by keys in byte order (whatever the database's collation).
func SortGroups(gs []Group) {
	slices.SortStableFunc(gs, func(a, b Group) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return slices.Compare(a.Keys, b.Keys)
	})
}
