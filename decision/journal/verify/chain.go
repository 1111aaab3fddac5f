package verify

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
)

// checkpoint is a checkpoint to check, from the store or from outside it.
type checkpoint struct {
	store.Checkpoint
	inStore, external bool
}

// walker verifies one chain entry by entry.
type walker struct {
	opts  *Options
	rep   *ChainReport
	next  uint64 // expected seq
	prev  string // expected previous hash
	cps   func() (checkpoint, bool)
	cp    checkpoint
	cpOK  bool
	last  *checkpoint // last checkpoint matched (or started from)
	brk   *Break
	ended bool // the window's end was reached
}

// walkChain verifies one chain: start point, every link, every
// checkpoint, and truncation.
func walkChain(ctx context.Context, st Source, opts *Options, chain string, first uint64) (ChainReport, error) {
	rep := ChainReport{Chain: chain}
	w := &walker{opts: opts, rep: &rep, next: 1, prev: journal.Genesis}
	fail := func(b Break) (ChainReport, error) {
		b.Chain = chain
		rep.Break = &b
		return rep, nil
	}
	start, err := startCheckpoint(ctx, st, opts, chain, first)
	if err != nil {
		return rep, err
	}
	switch {
	case start != nil:
		if err := opts.Keys.Verify(&start.Checkpoint); err != nil {
			return fail(Break{Seq: start.Seq, Reason: ReasonSignature, Detail: fmt.Sprintf("the checkpoint verification starts from does not verify: %v", err)})
		}
		w.next, w.prev, w.last = start.Seq+1, start.Hash, start
		rep.StartedFrom = &start.Checkpoint
		rep.Pruned = first > 1 && start.Seq == first-1 && !opts.Segments
		if rep.Pruned && opts.Retention > 0 && start.At.After(opts.Now().Add(-opts.Retention)) {
			return fail(Break{Seq: first, Reason: ReasonStart, Detail: fmt.Sprintf(
				"entries 1..%d are gone but the checkpoint at seq %d (%s) is younger than the retention period", first-1, start.Seq, start.At.Format("2006-01-02"))})
		}
	case first > 1:
		return fail(Break{Seq: first, Reason: ReasonStart, Detail: fmt.Sprintf(
			"the chain starts at seq %d with no signed checkpoint at seq %d: entries 1..%d were deleted", first, first-1, first-1)})
	}
	rep.First = w.next

	stored := func(yield func(checkpoint) bool) {
		st.Checkpoints(ctx, chain, w.next, func(cp store.Checkpoint) error {
			if !yield(checkpoint{Checkpoint: cp, inStore: true}) {
				return errStop
			}
			return nil
		})
	}
	var ext []checkpoint
	for _, cp := range opts.External {
		if cp.Chain == chain && cp.Seq >= w.next {
			ext = append(ext, checkpoint{Checkpoint: cp, external: true})
		}
	}
	slices.SortFunc(ext, func(a, b checkpoint) int { return cmpSeq(a.Seq, b.Seq) })
	next, stop := iter.Pull(mergeCheckpoints(stored, ext))
	defer stop()
	w.cps = next
	w.cp, w.cpOK = next()

	err = st.Entries(ctx, chain, w.next, 0, w.entry)
	if err != nil && !errors.Is(err, errStop) {
		return rep, fmt.Errorf("verify: chain %s: %w", chain, err)
	}
	if w.brk != nil {
		return fail(*w.brk)
	}
	rep.Last = w.next - 1
	// Checkpoints beyond the last entry: the chain was truncated.
	if !w.ended && opts.To.IsZero() {
		for ; w.cpOK; w.cp, w.cpOK = w.cps() {
			if err := opts.Keys.Verify(&w.cp.Checkpoint); err != nil {
				return fail(Break{Seq: w.cp.Seq, Reason: ReasonSignature, Detail: fmt.Sprintf("checkpoint: %v", err)})
			}
			return fail(Break{Seq: rep.Last + 1, Reason: ReasonTruncated, Detail: fmt.Sprintf(
				"the chain ends at seq %d but a signed checkpoint%s covers seq %d: entries %d..%d were removed",
				rep.Last, where(w.cp), w.cp.Seq, rep.Last+1, w.cp.Seq)})
		}
	}
	if w.last != nil {
		rep.Unsigned = rep.Last - w.last.Seq
		rep.Sealed = w.last.Sealed && rep.Unsigned == 0
	} else {
		rep.Unsigned = rep.Last
	}
	return rep, nil
}

func where(cp checkpoint) string {
	if cp.external && !cp.inStore {
		return " kept outside the store"
	}
	return ""
}

// entry checks one entry against the chain so far and its checkpoint.
func (w *walker) entry(e decision.Entry) error {
	if !w.opts.To.IsZero() && !e.At.Before(w.opts.To) {
		w.ended = true
		return errStop
	}
	fail := func(b Break) error {
		w.brk = &b
		return errStop
	}
	if e.Seq > w.next && w.opts.Segments {
		if b := w.gap(e.Seq); b != nil {
			return fail(*b)
		}
	}
	switch {
	case e.Seq != w.next:
		return fail(Break{Seq: w.next, Reason: ReasonMissing, Detail: missing(w.next, e.Seq-1)})
	case !journal.HashMatches(&e):
		return fail(Break{Seq: e.Seq, Record: e.RecordID, Reason: ReasonEdited, Detail: "the entry's content does not match its hash (edited)"})
	case e.PrevHash != w.prev:
		return fail(Break{Seq: e.Seq, Record: e.RecordID, Reason: ReasonLink, Detail: "the entry does not follow the one before it (an entry inserted, reordered or rewritten)"})
	}
	for w.cpOK && w.cp.Seq <= e.Seq {
		cp := w.cp
		if err := w.opts.Keys.Verify(&cp.Checkpoint); err != nil {
			return fail(Break{Seq: cp.Seq, Reason: ReasonSignature, Detail: fmt.Sprintf("checkpoint%s: %v", where(cp), err)})
		}
		if cp.Hash != e.Hash {
			return fail(Break{Seq: e.Seq, Record: e.RecordID, Reason: ReasonCheckpoint, Detail: fmt.Sprintf(
				"the entry differs from the signed checkpoint%s at its seq (rewritten with recomputed hashes)", where(cp))})
		}
		if cp.external && !cp.inStore {
			return fail(Break{Seq: cp.Seq, Reason: ReasonCheckpointMissing, Detail: fmt.Sprintf(
				"a checkpoint kept outside the store (sealed: %v, %s) is missing from it", cp.Sealed, cp.At.Format("2006-01-02T15:04:05Z07:00"))})
		}
		w.rep.Checkpoints++
		w.last = &cp
		w.cp, w.cpOK = w.cps()
	}
	w.next, w.prev = e.Seq+1, e.Hash
	w.rep.Entries++
	return nil
}

// gap crosses from the end of one segment to the next, which starts at
// seq: the entry before the gap must be covered by a signed checkpoint
// (the segment was not cut short) and the next segment must start just
// after one. Checkpoints inside the gap cover entries that are not there
// and are passed over.
func (w *walker) gap(seq uint64) *Break {
	if w.last == nil || w.last.Seq != w.next-1 {
		return nil // reported as missing entries
	}
	for w.cpOK && w.cp.Seq < seq-1 {
		w.cp, w.cpOK = w.cps()
	}
	if !w.cpOK || w.cp.Seq != seq-1 {
		return nil
	}
	cp := w.cp
	if err := w.opts.Keys.Verify(&cp.Checkpoint); err != nil {
		return &Break{Seq: cp.Seq, Reason: ReasonSignature, Detail: fmt.Sprintf("the checkpoint a segment starts from does not verify: %v", err)}
	}
	w.rep.Gaps = append(w.rep.Gaps, Gap{From: w.next, To: seq - 1})
	w.rep.Checkpoints++
	w.next, w.prev, w.last = seq, cp.Hash, &cp
	w.cp, w.cpOK = w.cps()
	return nil
}

// startCheckpoint picks where to start: the last checkpoint at or before
// the window's start, or, for a pruned chain, the checkpoint just before
// its first entry. nil means from the genesis.
func startCheckpoint(ctx context.Context, st Source, opts *Options, chain string, first uint64) (*checkpoint, error) {
	var found *checkpoint
	from := uint64(0)
	if first > 1 {
		from = first - 1
	}
	err := st.Checkpoints(ctx, chain, from, func(cp store.Checkpoint) error {
		if first > 1 && found == nil {
			if cp.Seq != first-1 {
				return errStop
			}
			found = &checkpoint{Checkpoint: cp, inStore: true}
			return nil
		}
		if opts.From.IsZero() || cp.At.After(opts.From) {
			return errStop
		}
		found = &checkpoint{Checkpoint: cp, inStore: true}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("verify: chain %s: %w", chain, err)
	}
	return found, nil
}

// mergeCheckpoints yields stored and external checkpoints in seq order,
// one per seq; a seq present in both yields the stored one marked
// external too (or, if they disagree, the external one alone so that the
// entry is checked against it).
func mergeCheckpoints(stored iter.Seq[checkpoint], ext []checkpoint) iter.Seq[checkpoint] {
	return func(yield func(checkpoint) bool) {
		i := 0
		for cp := range stored {
			for i < len(ext) && ext[i].Seq < cp.Seq {
				if !yield(ext[i]) {
					return
				}
				i++
			}
			for i < len(ext) && ext[i].Seq == cp.Seq {
				if ext[i].Hash != cp.Hash {
					cp = ext[i]
					cp.inStore = true
				} else {
					cp.external = true
				}
				i++
			}
			if !yield(cp) {
				return
			}
		}
		for ; i < len(ext); i++ {
			if !yield(ext[i]) {
				return
			}
		}
	}
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func missing(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("entry %d is missing (deleted)", from)
	}
	return fmt.Sprintf("entries %d..%d are missing (deleted)", from, to)
}
