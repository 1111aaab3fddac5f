package report

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
)

// ErrUnknownKind: no report has that name.
var ErrUnknownKind = errors.New("report: unknown kind")

// Kind names a report.
type Kind string

// The kinds.
const (
	KindRestrictions Kind = "restrictions"
	KindFulfilment   Kind = "fulfilment"
	KindInUse        Kind = "in-use"
	KindRepeated     Kind = "repeated"
	KindConsistency  Kind = "consistency"
	KindUndocumented Kind = "undocumented"
	KindReviews      Kind = "reviews"
	KindNotices      Kind = "notices"
)

// Kinds lists every kind, in the order a full report shows them.
var Kinds = []Kind{KindRestrictions, KindFulfilment, KindInUse, KindRepeated, KindConsistency, KindUndocumented, KindReviews, KindNotices}

// Summaries describe each kind in a line.
var Summaries = map[Kind]string{
	KindRestrictions: "restrictions by action, exception and policy, over time",
	KindFulfilment:   "time from request to fulfilment per requester class (p50, p95, max; held requests until collected)",
	KindInUse:        "how long each restriction has been in force, and how often it was applied",
	KindRepeated:     "restrictions applied repeatedly to the same patient or the same requester",
	KindConsistency:  "restriction rates per requester class for the same resource type and data class (non-discrimination)",
	KindUndocumented: "restrictions no policy or upstream_refusals entry documents (refusals the EHR made on its own), grouped",
	KindReviews:      "policies whose review is overdue or due, and the records flagged review-overdue",
	KindNotices:      "written responses due and overdue, and those sent late",
}

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownKind, s, strings.Join(names, ", "))
}

// Source is what reports read: the store's aggregates and, for the
// policy history, its journal entries.
type Source interface {
	store.Reporter
	RecordEntries(ctx context.Context, id string) ([]decision.Entry, error)
}

// Filter narrows a report to one patient, requester or policy, as an
// audit package's filter does.
type Filter struct {
	Patient   string `json:"patient,omitempty"`
	Requester string `json:"requester,omitempty"`
	Policy    string `json:"policy,omitempty"`
}

// Params say what a report covers.
type Params struct {
	// From and To bound the records by received_at, [From, To); zero
	// bounds are open.
	From, To time.Time
	Filter   Filter
	// Now is when the report is made, the date reviews and notices are
	// assessed at (default time.Now).
	Now time.Time
	// Bucket is the time bucket of the restrictions report (default: by
	// day for windows up to 62 days, by week up to 2 years, else by month).
	Bucket store.Bucket
	// NoticeHorizon lists notice items due within it besides overdue
	// ones (default 3 days); ReviewHorizon does the same for policy
	// reviews (default 30 days).
	NoticeHorizon, ReviewHorizon time.Duration
	// MinRepeat is the least number of restrictions of one patient or
	// requester the repeated report lists (default 3); Limit bounds each
	// of its lists (default 50).
	MinRepeat, Limit int
	// Policies is the policy set in force (reviews; and, elsewhere, to
	// tell allow policies from restricting ones). Optional.
	Policies *policy.Set
}

func (p *Params) defaults() {
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	p.Now = p.Now.UTC()
	if p.NoticeHorizon <= 0 {
		p.NoticeHorizon = 3 * 24 * time.Hour
	}
	if p.ReviewHorizon <= 0 {
		p.ReviewHorizon = 30 * 24 * time.Hour
	}
	if p.MinRepeat <= 0 {
		p.MinRepeat = 3
	}
	if p.Limit <= 0 {
		p.Limit = 50
	}
	if p.Bucket == "" {
		from, to := p.From, p.To
		if to.IsZero() {
			to = p.Now
		}
		switch span := to.Sub(from); {
		case from.IsZero() || span > 2*366*24*time.Hour:
			p.Bucket = store.Month
		case span > 62*24*time.Hour:
			p.Bucket = store.Week
		default:
			p.Bucket = store.Day
		}
	}
}

// filter returns the store filter of p.
func (p *Params) filter() store.ReportFilter {
	return store.ReportFilter{From: p.From, To: p.To, Patient: p.Filter.Patient, Subject: p.Filter.Requester, Policy: p.Filter.Policy}
}

// restrictive is every action that restricts access.
var restrictive = []decision.Action{decision.Redact, decision.Throttle, decision.Delay, decision.Deny}

// Header says what a report covers; every struct result starts with it.
type Header struct {
	Kind        Kind       `json:"kind"`
	From        *time.Time `json:"from,omitempty"`
	To          *time.Time `json:"to,omitempty"`
	Filter      *Filter    `json:"filter,omitempty"`
	GeneratedAt time.Time  `json:"generated_at"`
}

func (p *Params) header(k Kind) Header {
	h := Header{Kind: k, GeneratedAt: p.Now}
	if !p.From.IsZero() {
		t := p.From.UTC()
		h.From = &t
	}
	if !p.To.IsZero() {
		t := p.To.UTC()
		h.To = &t
	}
	if p.Filter != (Filter{}) {
		f := p.Filter
		h.Filter = &f
	}
	return h
}

// Window renders the header's window for people.
func (h Header) Window() string {
	from, to := "the first record", "now"
	if h.From != nil {
		from = h.From.Format(time.RFC3339)
	}
	if h.To != nil {
		to = h.To.Format(time.RFC3339)
	}
	return from + " to " + to
}

// Result is a computed report: one of the typed results of this package.
type Result interface {
	// ReportKind returns the result's kind.
	ReportKind() Kind
}

// ReportKind implements Result.
func (h Header) ReportKind() Kind { return h.Kind }

// Run computes the report of kind k.
func Run(ctx context.Context, src Source, k Kind, p Params) (Result, error) {
	switch k {
	case KindRestrictions:
		return Restrictions(ctx, src, p)
	case KindFulfilment:
		return Fulfilment(ctx, src, p)
	case KindInUse:
		return InUse(ctx, src, p)
	case KindRepeated:
		return Repeated(ctx, src, p)
	case KindConsistency:
		return Consistency(ctx, src, p)
	case KindUndocumented:
		return UndocumentedGroups(ctx, src, p)
	case KindReviews:
		return Reviews(ctx, src, p)
	case KindNotices:
		return Notices(ctx, src, p)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKind, k)
}

// All computes every kind, in Kinds order.
func All(ctx context.Context, src Source, p Params) ([]Result, error) {
	out := make([]Result, 0, len(Kinds))
	for _, k := range Kinds {
		r, err := Run(ctx, src, k, p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Count is a name and how many records it has.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// tally accumulates counts by name.
type tally map[string]int64

// sorted returns the counts largest first, then by name.
func (t tally) sorted() []Count {
	out := make([]Count, 0, len(t))
	for k, v := range t {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		switch {
		case a.Count != b.Count:
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// policyIDs splits a store List of policy ids.
func policyIDs(list string) []string {
	var out []string
	for id := range strings.SplitSeq(strings.Trim(list, ","), ",") {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// consentName folds the policies derived from patients' Consents into
// one name.
const consentName = "Consent/*"

// decidingIDs returns the ids of a restricted record's policies that
// decided it: those the set in force knows with the record's action, and
// every id it does not know (a retired policy, a patient's Consent folded
// into consentName, an upstream_refusals entry).
func decidingIDs(list, action string, set *policy.Set) []string {
	var out []string
	for _, id := range policyIDs(list) {
		if strings.HasPrefix(id, "Consent/") {
			id = consentName
		} else if set != nil {
			if p := set.Lookup(id); p != nil && p.Action.String() != action {
				continue
			}
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Millis is a duration in milliseconds (JSON number).
type Millis float64

func millis(d time.Duration) Millis { return Millis(float64(d) / float64(time.Millisecond)) }

// String renders a duration for people.
func (m Millis) String() string {
	d := time.Duration(float64(m) * float64(time.Millisecond))
	switch {
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(m))
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < 48*time.Hour:
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%.1f d", d.Hours()/24)
}

// Bound names a histogram bound in the largest unit it is a whole number
// of: "100 ms", "10 min", "7 d".
func (m Millis) Bound() string {
	ms := float64(m)
	for _, u := range []struct {
		name string
		ms   float64
	}{{"d", 86400e3}, {"h", 3600e3}, {"min", 60e3}, {"s", 1e3}} {
		if ms >= u.ms && math.Mod(ms, u.ms) == 0 {
			return strconv.FormatFloat(ms/u.ms, 'f', -1, 64) + " " + u.name
		}
	}
	return strconv.FormatFloat(ms, 'f', -1, 64) + " ms"
}

func rate(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
