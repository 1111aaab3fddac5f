package journal

import (
	"context"
	"errors"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal/spool"
	"github.com/ehigate/ehigate/decision/store"
)

// errAlreadyStored ends an Entries scan that found what it looked for.
var errAlreadyStored = errors.New("journal: already stored")

func (w *Writer) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// replayLoop drains the spool into the store whenever there is something
// to drain, backing off while the store stays unreachable.
func (w *Writer) replayLoop() {
	defer close(w.replayDone)
	backoff := w.opts.ReplayBackoff
	for {
		if w.spooling.Load() {
			if err := w.drain(); err != nil {
				w.opts.Logger.Warn("journal spool replay failed; retrying", "chain", w.opts.Chain,
					"spool_depth", w.Depth(), "retry_in", backoff.String(), "err", err)
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-w.stop:
					t.Stop()
					return
				}
				backoff = min(2*backoff, 32*w.opts.ReplayBackoff)
				continue
			}
			backoff = w.opts.ReplayBackoff
		}
		select {
		case <-w.wake:
		case <-w.stop:
			return
		}
	}
}

// replayEntries bounds the entries written to the store in one replay
// transaction.
const replayEntries = 8192

// drain replays the spool in order, in large transactions. When what is
// left is small (or after a few passes that did not get there, because
// commits keep coming faster than the store takes them), it takes wmu,
// holding back live commits while it replays the rest, and switches the
// writer back to the store; so draining always ends.
func (w *Writer) drain() error {
	for pass := 1; ; pass++ {
		if err := w.opts.Spool.Replay(replayEntries, w.replayGroup); err != nil {
			return err
		}
		if w.opts.Spool.Depth() <= replayEntries || pass >= 3 {
			break
		}
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.opts.Spool.Replay(replayEntries, w.replayGroup); err != nil {
		return err
	}
	done, err := w.opts.Spool.Reset()
	if err != nil {
		w.opts.Logger.Warn("journal spool reset", "err", err)
	}
	if done {
		w.spooling.Store(false)
		w.opts.Logger.Info("journal spool replayed; writing to the store again", "chain", w.opts.Chain)
	}
	return nil
}

// replayGroup writes consecutive spooled records to the store: the
// entries of runs of item records in one transaction each, checkpoints
// after the entries they cover.
func (w *Writer) replayGroup(rs []spool.Record) error {
	var items []store.Item
	flush := func() error {
		if len(items) == 0 {
			return nil
		}
		err := w.replayItems(items)
		if errors.Is(err, store.ErrChainConflict) {
			// Part of the run may be stored already: go record by record.
			err = nil
			for _, r := range rs {
				if len(r.Items) > 0 {
					if err = w.replayItems(r.Items); err != nil {
						break
					}
				}
			}
		}
		items = items[:0]
		return err
	}
	for _, r := range rs {
		if r.Checkpoint != nil {
			if err := flush(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), w.opts.CommitTimeout)
			err := w.st.PutCheckpoint(ctx, *r.Checkpoint)
			cancel()
			if err != nil {
				return err
			}
			continue
		}
		for i := range r.Items {
			r.Items[i].Spooled = true
		}
		items = append(items, r.Items...)
	}
	return flush()
}

// replayItems writes one run of spooled entries. A run the store already
// holds (a commit whose outcome was lost with the connection) is skipped.
func (w *Writer) replayItems(items []store.Item) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.CommitTimeout)
	defer cancel()
	err := w.st.Append(ctx, items)
	if !errors.Is(err, store.ErrChainConflict) {
		return err
	}
	last := items[len(items)-1].Entry
	serr := w.st.Entries(ctx, last.Chain, last.Seq, last.Seq, func(e decision.Entry) error {
		if e.Hash == last.Hash {
			return errAlreadyStored
		}
		return nil
	})
	if errors.Is(serr, errAlreadyStored) {
		return nil
	}
	return err
}
