package verify

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
)

// Source is what verification reads: a store.Store, or the chain
// segments, checkpoints and records of an audit package
// (decision/export).
type Source interface {
	// Chains lists the chains with their heads.
	Chains(ctx context.Context) ([]store.Chain, error)
	// Entries calls fn for each entry of chain with from <= seq <= to
	// (to == 0: to the end), in sequence order, stopping at fn's error.
	Entries(ctx context.Context, chain string, from, to uint64, fn func(decision.Entry) error) error
	// Checkpoints calls fn for each checkpoint of chain with seq >= from,
	// in sequence order, stopping at fn's error.
	Checkpoints(ctx context.Context, chain string, from uint64, fn func(store.Checkpoint) error) error
	// Audit calls fn for every record with its decision, completion and
	// transition entries and its projection (see store.Store).
	Audit(ctx context.Context, fn func(*store.AuditRecord) error) error
}

var _ Source = store.Store(nil)

// Options say what to verify and with which keys.
type Options struct {
	// Keys are the trusted checkpoint keys.
	Keys journal.Keyring
	// From and To bound the verified window by entry time (zero: open).
	// A chain is verified from its last checkpoint at or before From; the
	// projection is checked for records decided in the window. Truncation
	// is checked only when To is zero.
	From, To time.Time
	// Retention, when set, is the retention period: a chain whose first
	// entries were pruned must start at a checkpoint older than it.
	Retention time.Duration
	// Now is the time retention is measured from (default time.Now).
	Now func() time.Time
	// External are checkpoints kept outside the store (copied from the
	// log); each must verify, match the chain, and be present in the
	// store unless retention pruned it.
	External []store.Checkpoint
	// Chains limits verification to these chains (default: all).
	Chains []string
	// SkipRecords skips the projection check (chains and checkpoints
	// only), which is several times faster.
	SkipRecords bool
	// Transition applies a transition entry to a record, as the component
	// that wrote it did to the projection. Records with transitions are
	// not recomputed without it (they are counted as not checked).
	Transition func(rec *decision.Record, tr decision.Transition) error
	// Segments says the source holds segments of chains (an audit
	// package), not whole chains: a chain may start after seq 1 at the
	// signed checkpoint just before its first entry, and a gap between
	// two segments is allowed where the entry before it is covered by a
	// signed checkpoint and the entry after it follows one.
	Segments bool
}

// Reason classifies a break.
type Reason string

// The reasons verification reports.
const (
	// ReasonEdited: an entry's hash does not match its content.
	ReasonEdited Reason = "edited"
	// ReasonLink: an entry's previous hash is not the hash of the entry
	// before it (an entry inserted, reordered, or rewritten with its hash).
	ReasonLink Reason = "link-broken"
	// ReasonMissing: sequence numbers skip (entries deleted).
	ReasonMissing Reason = "missing"
	// ReasonStart: the chain starts after seq 1 without a checkpoint to
	// start from, or with one younger than the retention period.
	ReasonStart Reason = "start-missing"
	// ReasonCheckpoint: an entry differs from the signed checkpoint at its
	// sequence number (rewritten, hashes recomputed).
	ReasonCheckpoint Reason = "checkpoint-mismatch"
	// ReasonSignature: a checkpoint's signature does not verify or names
	// an untrusted key.
	ReasonSignature Reason = "bad-signature"
	// ReasonTruncated: the chain ends before a signed checkpoint.
	ReasonTruncated Reason = "truncated"
	// ReasonCheckpointMissing: a checkpoint kept outside the store is not
	// in it (deleted).
	ReasonCheckpointMissing Reason = "checkpoint-missing"
	// ReasonProjection: a projection row or patient index row does not
	// match the record recomputed from its entries, or exists without
	// them, or is missing.
	ReasonProjection Reason = "projection"
)

// Break is one detected problem.
type Break struct {
	Chain  string `json:"chain,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Record string `json:"record,omitempty"`
	Reason Reason `json:"reason"`
	Detail string `json:"detail"`
}

// String renders a break for people.
func (b Break) String() string {
	s := string(b.Reason)
	if b.Seq != 0 {
		s += fmt.Sprintf(" at seq %d", b.Seq)
	}
	if b.Record != "" {
		s += " (record " + b.Record + ")"
	}
	return s + ": " + b.Detail
}

// ChainReport is what verification found in one chain.
type ChainReport struct {
	Chain string `json:"chain"`
	// First and Last are the verified sequence numbers.
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	// Entries is how many entries were verified.
	Entries int64 `json:"entries"`
	// Checkpoints is how many signed checkpoints were checked.
	Checkpoints int `json:"checkpoints"`
	// StartedFrom is the checkpoint verification started from (earlier
	// entries pruned, or before the window); nil from the genesis.
	StartedFrom *store.Checkpoint `json:"started_from,omitempty"`
	// Pruned is set when the chain's first entries were removed by
	// retention.
	Pruned bool `json:"pruned,omitempty"`
	// Gaps are the ranges between segments (Options.Segments), each
	// bridged by signed checkpoints.
	Gaps []Gap `json:"gaps,omitempty"`
	// Sealed is set when the last checkpoint seals the chain at its head
	// (the writer shut down gracefully).
	Sealed bool `json:"sealed"`
	// Unsigned counts entries after the last checkpoint (a running or
	// crashed writer).
	Unsigned uint64 `json:"unsigned"`
	// Break is the first break found; verification of the chain stops
	// there.
	Break *Break `json:"break,omitempty"`
}

// Gap is a range of sequence numbers an audit package leaves out.
type Gap struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// RecordReport is what the projection check found.
type RecordReport struct {
	// Checked is how many records were recomputed and compared.
	Checked int64 `json:"checked"`
	// Problems counts every record that did not match.
	Problems int64 `json:"problems"`
	// Unchecked counts records with transition entries that could not be
	// recomputed (no Options.Transition).
	Unchecked int64 `json:"unchecked,omitempty"`
	// Breaks holds the first problem of each chain (and of records that
	// belong to no chain).
	Breaks []Break `json:"breaks,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Chains  []ChainReport `json:"chains"`
	Records RecordReport  `json:"records"`
	// Entries is how many entries were verified, in all chains.
	Entries int64 `json:"entries"`
	// Took is how long verification took.
	Took time.Duration `json:"took_ns"`
}

// OK reports whether nothing was found.
func (r *Report) OK() bool {
	for _, c := range r.Chains {
		if c.Break != nil {
			return false
		}
	}
	return r.Records.Problems == 0
}

// Run verifies st. The error is for a failure to read the store; what
// verification finds is in the Report.
func Run(ctx context.Context, st Source, opts Options) (*Report, error) {
	start := time.Now()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	chains, err := st.Chains(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	names := make([]string, 0, len(chains))
	for _, c := range chains {
		if len(opts.Chains) == 0 || slices.Contains(opts.Chains, c.Name) {
			names = append(names, c.Name)
		}
	}
	// Chains known only from external checkpoints were deleted whole.
	for _, cp := range opts.External {
		if !slices.Contains(names, cp.Chain) && (len(opts.Chains) == 0 || slices.Contains(opts.Chains, cp.Chain)) {
			names = append(names, cp.Chain)
		}
	}
	slices.Sort(names)
	rep := &Report{Chains: make([]ChainReport, len(names))}
	// A chain is pruned when its first entry is not seq 1.
	firsts := make(map[string]uint64, len(names))
	for _, name := range names {
		first, err := firstSeq(ctx, st, name)
		if err != nil {
			return nil, err
		}
		firsts[name] = first
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(names)+1)
	// The projection check runs beside the chain walks.
	if !opts.SkipRecords {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[len(names)] = checkRecords(ctx, st, &opts, firsts, &rep.Records)
		}()
	}
	sem := make(chan struct{}, min(2, max(1, runtime.GOMAXPROCS(0)-1)))
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cr, err := walkChain(ctx, st, &opts, name, firsts[name])
			rep.Chains[i], errs[i] = cr, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, c := range rep.Chains {
		rep.Entries += c.Entries
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// inWindow reports whether t is in the verified window.
func inWindow(opts *Options, t time.Time) bool {
	return (opts.From.IsZero() || !t.Before(opts.From)) && (opts.To.IsZero() || t.Before(opts.To))
}

// errStop ends a store scan early.
var errStop = errors.New("verify: stop")

// firstSeq returns the sequence number of a chain's first stored entry.
// For a chain whose entries were all pruned it is the one after its
// lowest checkpoint; 0 for a chain with neither.
func firstSeq(ctx context.Context, st Source, chain string) (uint64, error) {
	var first uint64
	err := st.Entries(ctx, chain, 0, 0, func(e decision.Entry) error {
		first = e.Seq
		return errStop
	})
	if err == nil && first == 0 {
		err = st.Checkpoints(ctx, chain, 0, func(cp store.Checkpoint) error {
			first = cp.Seq + 1
			return errStop
		})
	}
	if err != nil && !errors.Is(err, errStop) {
		return 0, fmt.Errorf("verify: %w", err)
	}
	return first, nil
}

func timeOfMicro(us int64) time.Time { return time.UnixMicro(us) }
