package journal

import (
	"context"
	"errors"
	"time"

	"github.com/ehigate/ehigate/decision/journal/spool"
	"github.com/ehigate/ehigate/decision/store"
)

// write stores items, or spools them while the store is unreachable.
func (w *Writer) write(items []store.Item) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if !w.spooling.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), w.opts.CommitTimeout)
		err := w.st.Append(ctx, items)
		cancel()
		if err == nil {
			return nil
		}
		if w.opts.Spool == nil || errors.Is(err, store.ErrChainConflict) {
			return err
		}
		w.startSpooling(err)
	}
	if err := w.opts.Spool.Append(spool.Record{Items: items}); err != nil {
		return err
	}
	w.nudge()
	return nil
}

func (w *Writer) startSpooling(cause error) {
	w.spooling.Store(true)
	w.opts.Logger.Warn("journal store unreachable; spooling entries locally until it returns",
		"chain", w.opts.Chain, "err", cause)
}

// checkpoint signs the chain head, logs the checkpoint and stores (or
// spools) it. A sealed checkpoint marks a graceful shutdown.
func (w *Writer) checkpoint(sealed bool) {
	if w.opts.Signer == nil || w.seq == 0 {
		return
	}
	cp := store.Checkpoint{Chain: w.opts.Chain, Seq: w.seq, Hash: w.head, At: w.opts.Clock().UTC().Truncate(time.Microsecond), Sealed: sealed}
	w.opts.Signer.Sign(&cp)
	w.cpSeq = cp.Seq
	w.opts.Logger.Info(CheckpointLogMessage, "checkpoint", cp)
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if !w.spooling.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), w.opts.CommitTimeout)
		err := w.st.PutCheckpoint(ctx, cp)
		cancel()
		if err == nil {
			return
		}
		if w.opts.Spool == nil {
			w.opts.Logger.Error("journal checkpoint not stored", "chain", cp.Chain, "seq", cp.Seq, "err", err)
			return
		}
		w.startSpooling(err)
	}
	if err := w.opts.Spool.Append(spool.Record{Checkpoint: &cp}); err != nil {
		w.opts.Logger.Error("journal checkpoint not stored or spooled", "chain", cp.Chain, "seq", cp.Seq, "err", err)
		return
	}
	w.nudge()
}
