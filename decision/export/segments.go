package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// needs collects, per chain, the entries a package must prove: the
// sequence numbers of the exported records' entries and of the policy-set
// entries, and, for a package of a whole window, the range of entries
// written in it.
type needs struct {
	seqs  map[string][]uint64
	spans map[string][2]uint64
}

func newNeeds() *needs {
	return &needs{seqs: map[string][]uint64{}, spans: map[string][2]uint64{}}
}

func (n *needs) add(chain string, seq uint64) { n.seqs[chain] = append(n.seqs[chain], seq) }

// span adds the range lo..hi of a chain.
func (n *needs) span(chain string, lo, hi uint64) { n.spans[chain] = [2]uint64{lo, hi} }

// chains returns the chains with needs, sorted.
func (n *needs) chains() []string {
	var out []string
	for c := range n.seqs {
		out = append(out, c)
	}
	for c := range n.spans {
		if _, ok := n.seqs[c]; !ok {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// errStop ends a store scan early.
var errStop = errors.New("export: stop")

// plan is the segments of one chain and the checkpoints that sign them.
type plan struct {
	segments    []Segment
	checkpoints []store.Checkpoint
}

// planChain cuts a chain into the segments that cover its needs: the
// ranges between consecutive signed checkpoints (up to head) that hold a
// needed entry, merged where they touch, each starting after the
// checkpoint before it. The chain's tail after its last checkpoint is an
// unsigned segment.
func planChain(ctx context.Context, st store.Store, chain string, head uint64, seqs []uint64, span [2]uint64, hasSpan bool) (plan, error) {
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	lo, hi := uint64(0), uint64(0)
	if len(seqs) > 0 {
		lo, hi = seqs[0], seqs[len(seqs)-1]
	}
	if hasSpan && span[0] <= span[1] {
		if lo == 0 || span[0] < lo {
			lo = span[0]
		}
		hi = max(hi, span[1])
	}
	if lo == 0 || lo > head {
		return plan{}, nil
	}
	hi = min(hi, head)
	start, err := checkpointBefore(ctx, st, chain, lo)
	if err != nil {
		return plan{}, err
	}
	// The checkpoints from the start up to the first at or past hi.
	var cps []store.Checkpoint
	from := uint64(0)
	if start != nil {
		cps, from = append(cps, *start), start.Seq+1
	}
	err = st.Checkpoints(ctx, chain, from, func(cp store.Checkpoint) error {
		if cp.Seq > head {
			return errStop
		}
		cps = append(cps, cp)
		if cp.Seq >= hi {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return plan{}, fmt.Errorf("export: checkpoints of %s: %w", chain, err)
	}
	// Interval i is (bounds[i], bounds[i+1]].
	bounds := []uint64{0}
	if start != nil {
		bounds = bounds[:0]
	}
	for _, cp := range cps {
		bounds = append(bounds, cp.Seq)
	}
	if bounds[len(bounds)-1] < head && bounds[len(bounds)-1] < hi {
		bounds = append(bounds, head) // the unsigned tail
	}
	signedTo := uint64(0)
	if len(cps) > 0 {
		signedTo = cps[len(cps)-1].Seq
	}
	needed := func(a, b uint64) bool { // is anything in (a, b] needed?
		if hasSpan && span[0] <= b && span[1] > a && span[0] <= span[1] {
			return true
		}
		i, _ := slices.BinarySearch(seqs, a+1)
		return i < len(seqs) && seqs[i] <= b
	}
	var p plan
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		if !needed(a, b) {
			continue
		}
		if n := len(p.segments); n > 0 && p.segments[n-1].To == a {
			p.segments[n-1].To = b
		} else {
			p.segments = append(p.segments, Segment{Chain: chain, From: a + 1, To: b})
		}
		p.segments[len(p.segments)-1].Signed = b <= signedTo
	}
	for _, cp := range cps {
		for _, s := range p.segments {
			if cp.Seq+1 >= s.From && cp.Seq <= s.To {
				p.checkpoints = append(p.checkpoints, cp)
				break
			}
		}
	}
	return p, nil
}

// checkpointBefore returns the last checkpoint of chain with seq < lo,
// or nil, looking back in widening steps (checkpoints are at most
// journal.checkpoint_every entries apart).
func checkpointBefore(ctx context.Context, st store.Store, chain string, lo uint64) (*store.Checkpoint, error) {
	for back := uint64(1 << 12); ; back *= 8 {
		from := uint64(0)
		if lo > back {
			from = lo - back
		}
		var found *store.Checkpoint
		err := st.Checkpoints(ctx, chain, from, func(cp store.Checkpoint) error {
			if cp.Seq >= lo {
				return errStop
			}
			found = &cp
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, fmt.Errorf("export: checkpoints of %s: %w", chain, err)
		}
		if found != nil || from == 0 {
			return found, nil
		}
	}
}

// windowSpan returns the range of a chain's entries written in [from,
// to) (by binary search on entry times, which grow with seq), and false
// when there is none.
func windowSpan(ctx context.Context, st store.Store, chain string, head uint64, from, to time.Time) (uint64, uint64, bool, error) {
	first, err := firstSeq(ctx, st, chain)
	if err != nil || first == 0 || first > head {
		return 0, 0, false, err
	}
	at := func(seq uint64) (time.Time, error) {
		var t time.Time
		err := st.Entries(ctx, chain, seq, seq, func(e decision.Entry) error { t = e.At; return nil })
		if err != nil {
			return t, fmt.Errorf("export: entries of %s: %w", chain, err)
		}
		return t, nil
	}
	// search returns the first seq in [first, head+1) whose time is not
	// before t.
	search := func(t time.Time) (uint64, error) {
		a, b := first, head+1
		for a < b {
			m := a + (b-a)/2
			mt, err := at(m)
			if err != nil {
				return 0, err
			}
			if mt.Before(t) {
				a = m + 1
			} else {
				b = m
			}
		}
		return a, nil
	}
	lo := first
	if !from.IsZero() {
		if lo, err = search(from); err != nil {
			return 0, 0, false, err
		}
	}
	end := head + 1
	if !to.IsZero() {
		if end, err = search(to); err != nil {
			return 0, 0, false, err
		}
	}
	if lo >= end {
		return 0, 0, false, nil
	}
	return lo, end - 1, true, nil
}

// firstSeq returns the sequence number of a chain's first stored entry
// (0 when it has none).
func firstSeq(ctx context.Context, st store.Store, chain string) (uint64, error) {
	var first uint64
	err := st.Entries(ctx, chain, 0, 0, func(e decision.Entry) error {
		first = e.Seq
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, fmt.Errorf("export: entries of %s: %w", chain, err)
	}
	return first, nil
}
