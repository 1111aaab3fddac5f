package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// Dialect is what differs between the SQL stores when rendering a Query.
type Dialect struct {
	// Placeholder renders the n-th (1-based) bound argument: "?" or "$n".
	Placeholder func(n int) string
	// Time converts a time (or a cursor's Unix microseconds) to the value
	// bound for received_at columns.
	Time func(micros int64) any
	// Spooled is the condition selecting records that went through the
	// spool (decision.FlagSpooled is kept beside the document).
	Spooled string
}

// SQLite is the dialect of the SQLite store: "?" placeholders, times as
// Unix microseconds.
var SQLite = Dialect{
	Placeholder: func(int) string { return "?" },
	Time:        func(us int64) any { return us },
	Spooled:     "r.spooled <> 0",
}

// Postgres is the dialect of the PostgreSQL store: "$n" placeholders,
// timestamptz times.
var Postgres = Dialect{
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	Time:        func(us int64) any { return time.UnixMicro(us).UTC() },
	Spooled:     "r.spooled",
}

// IndexedFlags are the flags a partial index of the projection covers
// (records_flag_*, on received_at and id, of the records carrying the
// flag), so that a query for a rare flag reads only the records that
// have it. FlagSpooled has its own (records_spooled).
var IndexedFlags = []decision.Flag{
	decision.FlagReviewOverdue, decision.FlagPolicyLapsed, decision.FlagUpstreamRestriction, decision.FlagUndocumented,
	decision.FlagNoticeRequired, decision.FlagNoticeSent, decision.FlagResponseNotFiltered, decision.FlagResponseNotInspected,
	decision.FlagUpstreamError, decision.FlagThrottleStoreFailure, decision.FlagBodyNotInspected, decision.FlagClientDisconnected,
}

// FlagCondition returns the condition selecting the records carrying f
// (not FlagSpooled) and its bound argument. An indexed flag's condition
// is written literally, exactly as its partial index's, so that the
// database uses the index; any other flag's pattern is bound.
func FlagCondition(f decision.Flag) (string, []any) {
	if slices.Contains(IndexedFlags, f) {
		return `r.flags LIKE '` + Member(string(f)) + `' ESCAPE '\'`, nil
	}
	return `r.flags LIKE ? ESCAPE '\'`, []any{Member(string(f))}
}

// RecordsSQL renders q as one SELECT over the projection tables "records"
// (alias r) and "record_patients" (alias p) returning r.doc and
// r.spooled, newest first unless q.Ascending, one row more than the page
// so that the caller knows whether a next page exists. Every value is a
// bound argument.
func RecordsSQL(q Query, d Dialect) (string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		for _, v := range a {
			args = append(args, v)
			cond = strings.Replace(cond, "?", d.Placeholder(len(args)), 1)
		}
		where = append(where, cond)
	}
	from := "records r"
	tcol := "r.received_at"
	if q.Patient != "" {
		from = "record_patients p JOIN records r ON r.id = p.record_id AND r.received_at = p.received_at"
		tcol = "p.received_at"
		add("p.patient = ?", q.Patient)
	}
	if !q.From.IsZero() {
		add(tcol+" >= ?", d.Time(q.From.UnixMicro()))
	}
	if !q.To.IsZero() {
		add(tcol+" < ?", d.Time(q.To.UnixMicro()))
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
		as := make([]any, len(q.Action))
		for i, a := range q.Action {
			ph[i], as[i] = "?", a.String()
		}
		add("r.action IN ("+strings.Join(ph, ",")+")", as...)
	}
	if q.Status != 0 {
		add("r.status = ?", q.Status)
	}
	if q.Policy != "" {
		add(`r.policies LIKE ? ESCAPE '\'`, Member(q.Policy))
	}
	switch {
	case q.Flag == decision.FlagSpooled:
		add("(" + d.Spooled + ")")
	case q.Flag != "":
		cond, a := FlagCondition(q.Flag)
		add(cond, a...)
	}
	order, cmp := "DESC", "<"
	if q.Ascending {
		order, cmp = "ASC", ">"
	}
	if q.Cursor != "" {
		t, id, err := DecodeCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		add(fmt.Sprintf("(%s, r.id) %s (?, ?)", tcol, cmp), d.Time(t), id)
	}
	var b strings.Builder
	b.WriteString("SELECT r.doc, r.spooled FROM ")
	b.WriteString(from)
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	fmt.Fprintf(&b, " ORDER BY %s %s, r.id %s LIMIT %d", tcol, order, order, q.PageLimit()+1)
	return b.String(), args, nil
}
