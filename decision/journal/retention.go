package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// ErrPruneMismatch: the checkpoint retention would prune to does not
// match the entry at its sequence number; nothing is pruned.
var ErrPruneMismatch = errors.New("journal: checkpoint does not match its entry; not pruning")

// Pruned says how far retention pruned one chain.
type Pruned struct {
	Chain string
	// Through is the last pruned sequence number; the checkpoint at it is
	// kept so that verification starts from it.
	Through uint64
	// At is the time of that checkpoint.
	At time.Time
}

// Prune applies retention to every chain of st: entries up to the last
// checkpoint made before cutoff are deleted with the projection rows of
// the records they decided. Only whole ranges ending at a signed
// checkpoint (one that verifies with keys and matches its entry) are
// pruned, and that checkpoint is kept. Several processes may prune at
// once.
func Prune(ctx context.Context, st store.Store, cutoff time.Time, keys Keyring) ([]Pruned, error) {
	chains, err := st.Chains(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal: prune: %w", err)
	}
	var out []Pruned
	for _, c := range chains {
		p, ok, err := pruneChain(ctx, st, c.Name, cutoff, keys)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

var errDone = errors.New("journal: done")

func pruneChain(ctx context.Context, st store.Store, chain string, cutoff time.Time, keys Keyring) (Pruned, bool, error) {
	// The first entry still stored; nothing below it is left to prune.
	var first uint64
	if err := st.Entries(ctx, chain, 0, 0, func(e decision.Entry) error { first = e.Seq; return errDone }); err != nil && !errors.Is(err, errDone) {
		return Pruned{}, false, fmt.Errorf("journal: prune %s: %w", chain, err)
	}
	if first == 0 {
		return Pruned{}, false, nil
	}
	var last *store.Checkpoint
	err := st.Checkpoints(ctx, chain, first, func(cp store.Checkpoint) error {
		if !cp.At.Before(cutoff) {
			return errDone
		}
		if keys.Verify(&cp) == nil {
			last = &cp
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return Pruned{}, false, fmt.Errorf("journal: prune %s: %w", chain, err)
	}
	if last == nil {
		return Pruned{}, false, nil
	}
	match := false
	err = st.Entries(ctx, chain, last.Seq, last.Seq, func(e decision.Entry) error {
		match = e.Hash == last.Hash && Hash(&e) == e.Hash
		return nil
	})
	if err != nil {
		return Pruned{}, false, fmt.Errorf("journal: prune %s: %w", chain, err)
	}
	if !match {
		return Pruned{}, false, fmt.Errorf("%w (chain %s, seq %d)", ErrPruneMismatch, chain, last.Seq)
	}
	if err := st.Prune(ctx, chain, last.Seq); err != nil {
		return Pruned{}, false, fmt.Errorf("journal: prune %s: %w", chain, err)
	}
	return Pruned{Chain: chain, Through: last.Seq, At: last.At}, true, nil
}
