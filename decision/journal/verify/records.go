package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

const detailOrphanCompletion = "completion or transition entries without a decision entry"

// errUnchecked marks a record that could not be recomputed.
var errUnchecked = &Break{}

// recordJob is one record handed to a worker; it owns its slices.
type recordJob struct {
	id      string
	entries []decision.Entry
	proj    *store.Projection
}

// recordCheck collects the projection check's findings.
type recordCheck struct {
	opts   *Options
	firsts map[string]uint64
	mu     sync.Mutex
	rep    *RecordReport
	first  map[string]Break
}

// checkRecords recomputes every record in the window from its entries and
// compares it with the stored projection, on every core.
func checkRecords(ctx context.Context, st Source, opts *Options, firsts map[string]uint64, rep *RecordReport) error {
	rc := &recordCheck{opts: opts, firsts: firsts, rep: rep, first: map[string]Break{}}
	jobs := make(chan recordJob, 256)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				rc.check(&j)
			}
		}()
	}
	err := st.Audit(ctx, func(r *store.AuditRecord) error {
		j := recordJob{id: r.ID, entries: slices.Clone(r.Entries)}
		if r.Projection != nil {
			p := *r.Projection
			p.PatientRows = slices.Clone(p.PatientRows)
			j.proj = &p
		}
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("verify: records: %w", err)
	}
	chains := make([]string, 0, len(rc.first))
	for c := range rc.first {
		chains = append(chains, c)
	}
	sort.Strings(chains)
	for _, c := range chains {
		rep.Breaks = append(rep.Breaks, rc.first[c])
	}
	return nil
}

// check compares one record; problems are counted and the first of each
// chain (lowest seq) is kept.
func (rc *recordCheck) check(j *recordJob) {
	b, checked := rc.compare(j)
	if !checked {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if b == errUnchecked {
		rc.rep.Unchecked++
		return
	}
	rc.rep.Checked++
	if b == nil {
		return
	}
	b.Reason = ReasonProjection
	if b.Record == "" {
		b.Record = j.id
	}
	rc.rep.Problems++
	if old, ok := rc.first[b.Chain]; !ok || b.Seq < old.Seq || (b.Seq == old.Seq && b.Record < old.Record) {
		rc.first[b.Chain] = *b
	}
}

// compare returns the record's problem (nil when it matches) and whether
// it was in the verified window at all.
func (rc *recordCheck) compare(j *recordJob) (*Break, bool) {
	var dec *decision.Entry
	var later []*decision.Entry
	for i := range j.entries {
		e := &j.entries[i]
		switch e.Kind {
		case decision.KindDecision:
			if dec != nil {
				return &Break{Chain: e.Chain, Seq: e.Seq, Detail: "the record has more than one decision entry"}, true
			}
			dec = e
		case decision.KindCompletion, decision.KindTransition:
			later = append(later, e)
		}
	}
	// Completions and transitions apply in time order (transitions may
	// come from another chain, e.g. a command-line tool's).
	slices.SortStableFunc(later, func(a, b *decision.Entry) int { return a.At.Compare(b.At) })
	p := j.proj
	if dec == nil {
		chain, seq := "", uint64(0)
		if len(later) > 0 {
			chain, seq = later[0].Chain, later[0].Seq
		}
		switch {
		case p != nil && p.Missing:
			return &Break{Chain: chain, Seq: seq, Detail: "patient index rows point at a record that does not exist"}, rc.inScope(chain, p.ReceivedAt)
		case p != nil:
			return &Break{Chain: chain, Seq: seq, Detail: "a projection row exists without a decision entry (inserted, or its entry deleted)"}, rc.inScope(chain, p.ReceivedAt)
		default:
			c := later[0]
			if !rc.inScope(c.Chain, c.At.UnixMicro()) || rc.firsts[c.Chain] > 1 {
				// Decided in a range that retention pruned.
				return nil, false
			}
			return &Break{Chain: c.Chain, Seq: c.Seq, Detail: detailOrphanCompletion}, true
		}
	}
	if !rc.inScope(dec.Chain, dec.At.UnixMicro()) {
		return nil, false
	}
	fail := func(format string, args ...any) (*Break, bool) {
		return &Break{Chain: dec.Chain, Seq: dec.Seq, Detail: fmt.Sprintf(format, args...)}, true
	}
	if p == nil || p.Missing {
		return fail("the record is missing from the projection (row deleted)")
	}
	rec, want, err := replay(j.id, dec, later, rc.opts.Transition)
	if errors.Is(err, ErrNoTransitionRule) {
		return errUnchecked, true
	}
	if err != nil {
		return fail("%s", strings.TrimPrefix(err.Error(), "verify: "))
	}
	if !bytes.Equal(want, p.Doc) {
		if diff := docDiff(want, p.Doc); diff != "" {
			return fail("the projection differs from the record its entries make (%s)", diff)
		}
	}
	if diff := rowDiff(store.RowOf(rec), p.Row); diff != "" {
		return fail("projection column %s differs from the record its entries make", diff)
	}
	if diff := patientDiff(rec, p); diff != "" {
		return fail("the patient index %s", diff)
	}
	return nil, true
}

// ErrNoTransitionRule: a record has a transition entry and no rule to
// apply it was given (Options.Transition).
var ErrNoTransitionRule = errors.New("verify: a transition entry and no transition rule")

// Recompute returns the record its entries make, and its JSON document as
// a store's projection holds it: the decision entry with the completion
// and transition entries applied in time order, transitions through
// transition (without one, a record that has any fails with
// ErrNoTransitionRule). Entries of other kinds are ignored.
func Recompute(id string, entries []decision.Entry, transition func(*decision.Record, decision.Transition) error) (*decision.Record, []byte, error) {
	var dec *decision.Entry
	var later []*decision.Entry
	for i := range entries {
		e := &entries[i]
		switch e.Kind {
		case decision.KindDecision:
			if dec != nil {
				return nil, nil, fmt.Errorf("verify: record %s has more than one decision entry (%s/%d)", id, e.Chain, e.Seq)
			}
			dec = e
		case decision.KindCompletion, decision.KindTransition:
			later = append(later, e)
		}
	}
	if dec == nil {
		return nil, nil, fmt.Errorf("verify: record %s has no decision entry", id)
	}
	slices.SortStableFunc(later, func(a, b *decision.Entry) int { return a.At.Compare(b.At) })
	return replay(id, dec, later, transition)
}

// replay applies later (in time order) to the record of dec.
func replay(id string, dec *decision.Entry, later []*decision.Entry, transition func(*decision.Record, decision.Transition) error) (*decision.Record, []byte, error) {
	var rec decision.Record
	if err := json.Unmarshal(dec.Payload, &rec); err != nil {
		return nil, nil, fmt.Errorf("verify: the decision entry does not decode: %w", err)
	}
	if rec.ID != id {
		return nil, nil, fmt.Errorf("verify: the decision entry's payload is for record %q", rec.ID)
	}
	if len(later) == 0 {
		return &rec, dec.Payload, nil
	}
	for _, c := range later {
		if c.Kind == decision.KindTransition {
			if transition == nil {
				return nil, nil, ErrNoTransitionRule
			}
			var tr decision.Transition
			if err := json.Unmarshal(c.Payload, &tr); err != nil {
				return nil, nil, fmt.Errorf("verify: transition entry %s/%d does not decode: %w", c.Chain, c.Seq, err)
			}
			if err := transition(&rec, tr); err != nil {
				return nil, nil, fmt.Errorf("verify: transition entry %s/%d does not apply: %w", c.Chain, c.Seq, err)
			}
			continue
		}
		var comp decision.Completion
		if err := json.Unmarshal(c.Payload, &comp); err != nil {
			return nil, nil, fmt.Errorf("verify: completion entry %d does not decode: %w", c.Seq, err)
		}
		rec.Complete(comp)
	}
	want, err := json.Marshal(&rec)
	if err != nil {
		return nil, nil, fmt.Errorf("verify: the record does not encode: %w", err)
	}
	return &rec, want, nil
}

// DocDiff names the top-level fields where two record documents differ
// ("" when they are the same record, formatting aside).
func DocDiff(want, got []byte) string { return docDiff(want, got) }

// inScope reports whether a record of chain decided at us (Unix
// microseconds) is in the verified window and chains.
func (rc *recordCheck) inScope(chain string, us int64) bool {
	if chain != "" && len(rc.opts.Chains) > 0 && !slices.Contains(rc.opts.Chains, chain) {
		return false
	}
	if chain == "" && len(rc.opts.Chains) > 0 {
		return false
	}
	return inWindow(rc.opts, timeOfMicro(us))
}

// docDiff names the top-level fields where two record documents differ
// ("" when they are the same record, formatting aside).
func docDiff(want, got []byte) string {
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal(got, &b); err != nil {
		return "the stored document does not decode"
	}
	json.Unmarshal(want, &a)
	var diff []string
	for k, v := range a {
		if !jsonEqual(v, b[k]) {
			diff = append(diff, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diff = append(diff, k)
		}
	}
	sort.Strings(diff)
	return strings.Join(diff, ", ")
}

func jsonEqual(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(ax, by)
}

// rowDiff names the first indexed column that differs.
func rowDiff(want, got store.Row) string {
	for _, c := range [...]struct {
		name string
		a, b any
	}{
		{"received_at", want.ReceivedAt, got.ReceivedAt}, {"action", want.Action, got.Action},
		{"interaction", want.Interaction, got.Interaction}, {"resource_type", want.ResourceType, got.ResourceType},
		{"subject", want.Subject, got.Subject}, {"client_id", want.ClientID, got.ClientID},
		{"issuer", want.Issuer, got.Issuer}, {"class", want.Class, got.Class}, {"status", want.Status, got.Status},
		{"exception", want.Exception, got.Exception}, {"flags", want.Flags, got.Flags}, {"policies", want.Policies, got.Policies},
	} {
		if c.a != c.b {
			return c.name
		}
	}
	return ""
}

// patientDiff compares the patient index with the record's patients.
func patientDiff(rec *decision.Record, p *store.Projection) string {
	want := slices.Clone(rec.Patients)
	slices.Sort(want)
	want = slices.Compact(want)
	got := make([]string, 0, len(p.PatientRows))
	at := rec.ReceivedAt.UnixMicro()
	for _, r := range p.PatientRows {
		if r.ReceivedAt != at {
			return fmt.Sprintf("row for a patient has time %d, not the record's", r.ReceivedAt)
		}
		got = append(got, r.Patient)
	}
	slices.Sort(got)
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			return "lacks one of the record's patients"
		}
	}
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			return "names a patient the record does not"
		}
	}
	return ""
}
