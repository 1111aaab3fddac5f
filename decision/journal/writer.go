package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal/spool"
	"github.com/ehigate/ehigate/decision/store"
)

// CheckpointLogMessage is the message of the log line each checkpoint is
// written to (under the key "checkpoint"), so that a copy of every
// checkpoint lives outside the store.
const CheckpointLogMessage = "journal checkpoint"

// ErrClosed is returned for appends after Close.
var ErrClosed = errors.New("journal: closed")

// Options configure a Writer.
type Options struct {
	// Chain names this writer's chain; one process writes a chain.
	Chain string
	// MaxBatch bounds the entries of one group commit (default 512).
	MaxBatch int
	// Clock stamps entries (default time.Now).
	Clock func() time.Time
	// Logger receives errors of asynchronous appends, spooling changes
	// and every checkpoint (one JSON line each with a JSON handler).
	Logger *slog.Logger
	// Observe, when set, is called after each commit with its size,
	// duration and error (for metrics).
	Observe func(batch int, took time.Duration, err error)

	// Signer signs checkpoints; nil disables them.
	Signer *Signer
	// CheckpointEvery is how many entries may follow a checkpoint before
	// the next one (default 10,000).
	CheckpointEvery int
	// CheckpointInterval is the longest time entries stay without a
	// checkpoint (default one minute).
	CheckpointInterval time.Duration

	// Spool, when set, keeps group commits the store could not take; the
	// Writer replays them in order and owns (and closes) the spool.
	Spool *spool.Spool
	// CommitTimeout bounds one store write (default 10s); a write that
	// fails or times out sends the batch to the spool.
	CommitTimeout time.Duration
	// ReplayBackoff is the first wait between replay attempts while the
	// store is unreachable (default 250ms); it doubles up to 32 times it.
	ReplayBackoff time.Duration
}

// Writer appends entries to one chain with group commit. Each commit is
// durable in the store, or, when the store cannot take it and a spool is
// configured, in the spool, before any waiter is told it succeeded.
type Writer struct {
	st   store.Store
	opts Options

	mu     sync.RWMutex // guards closed and sends on in
	closed bool
	in     chan *pending
	done   chan struct{}

	// Owned by the loop goroutine.
	seq   uint64
	head  string
	cpSeq uint64

	// wmu serialises store-or-spool writes with the replayer's switch
	// back to the store, so that no live entry overtakes a spooled one.
	wmu        sync.Mutex
	spooling   atomic.Bool
	wake       chan struct{}
	stop       chan struct{}
	replayDone chan struct{}
}

type pending struct {
	kind     decision.EntryKind
	recordID string
	payload  []byte
	rec      *decision.Record
	doc      []byte
	result   chan result
}

type result struct {
	entry decision.Entry
	err   error
}

// Open starts a writer continuing chain opts.Chain from its head in st,
// or from the spool when it holds entries the store does not have yet;
// those are replayed before anything new reaches the store.
func Open(ctx context.Context, st store.Store, opts Options) (*Writer, error) {
	if opts.Chain == "" {
		return nil, errors.New("journal: a chain name is required")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 10000
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Minute
	}
	if opts.CommitTimeout <= 0 {
		opts.CommitTimeout = 10 * time.Second
	}
	if opts.ReplayBackoff <= 0 {
		opts.ReplayBackoff = 250 * time.Millisecond
	}
	seq, head, err := st.Head(ctx, opts.Chain)
	spooling := false
	if sp := opts.Spool; sp != nil && sp.Pending() > 0 {
		spooling = true
		if last, ok := sp.Last(); ok && (err != nil || last.Seq >= seq) {
			if last.Chain != opts.Chain {
				return nil, fmt.Errorf("journal: the spool holds chain %q, not %q", last.Chain, opts.Chain)
			}
			seq, head, err = last.Seq, last.Hash, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if seq == 0 {
		head = Genesis
	}
	w := &Writer{
		st: st, opts: opts,
		in: make(chan *pending, 4*opts.MaxBatch), done: make(chan struct{}),
		seq: seq, head: head, cpSeq: seq,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), replayDone: make(chan struct{}),
	}
	w.spooling.Store(spooling)
	if opts.Spool != nil {
		go w.replayLoop()
		if spooling {
			opts.Logger.Warn("journal spool holds entries from an earlier run; replaying them first",
				"chain", opts.Chain, "spool_depth", opts.Spool.Depth())
			w.nudge()
		}
	} else {
		close(w.replayDone)
	}
	go w.loop()
	return w, nil
}

// Chain returns the writer's chain name.
func (w *Writer) Chain() string { return w.opts.Chain }

// Depth returns how many entries wait in the spool for the store.
func (w *Writer) Depth() int {
	if w.opts.Spool == nil {
		return 0
	}
	return w.opts.Spool.Depth()
}

// Spooling reports whether commits currently go to the spool.
func (w *Writer) Spooling() bool { return w.spooling.Load() }

// Append writes one entry and returns once it is durable (in the store,
// or in the spool while the store is unreachable). payload is encoded as
// JSON; rec, when not nil, is the record projection the entry leaves
// behind and must not change until Append returns.
func (w *Writer) Append(ctx context.Context, kind decision.EntryKind, recordID string, payload any, rec *decision.Record) (decision.Entry, error) {
	ch, err := w.submit(kind, recordID, payload, rec)
	if err != nil {
		return decision.Entry{}, err
	}
	select {
	case r := <-ch:
		return r.entry, r.err
	case <-ctx.Done():
		// The entry stays queued and will still be written.
		return decision.Entry{}, fmt.Errorf("journal: %w", ctx.Err())
	}
}

// Submit queues one entry without waiting for it to be written; Close
// waits for every queued entry. A failed write is logged and reported to
// Options.Observe. rec must not change afterwards.
func (w *Writer) Submit(kind decision.EntryKind, recordID string, payload any, rec *decision.Record) error {
	_, err := w.submit(kind, recordID, payload, rec)
	return err
}

func (w *Writer) submit(kind decision.EntryKind, recordID string, payload any, rec *decision.Record) (chan result, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("journal: encode %s: %w", kind, err)
	}
	// The projection is encoded here, in the caller's goroutine, not by
	// the single writer; a payload that is the record itself is reused.
	var doc []byte
	if rec != nil {
		if pr, ok := payload.(*decision.Record); ok && pr == rec {
			doc = b
		} else if doc, err = json.Marshal(rec); err != nil {
			return nil, fmt.Errorf("journal: encode record %s: %w", recordID, err)
		}
	}
	p := &pending{kind: kind, recordID: recordID, payload: b, rec: rec, doc: doc, result: make(chan result, 1)}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return nil, ErrClosed
	}
	w.in <- p
	return p.result, nil
}

// Close stops accepting entries, writes every queued one, seals the chain
// with a checkpoint, makes a last attempt to empty the spool and returns
// when all that is done (or ctx ends).
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("journal: close: %w", ctx.Err())
	}
}

func (w *Writer) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.opts.CheckpointInterval)
	defer tick.Stop()
	batch := make([]*pending, 0, w.opts.MaxBatch)
	items := make([]store.Item, 0, w.opts.MaxBatch)
	for {
		select {
		case first, ok := <-w.in:
			if !ok {
				w.shutdown()
				return
			}
			batch = append(batch[:0], first)
		drain:
			for len(batch) < w.opts.MaxBatch {
				select {
				case p, ok := <-w.in:
					if !ok {
						break drain
					}
					batch = append(batch, p)
				default:
					break drain
				}
			}
			items = w.commit(batch, items[:0])
			clear(batch)
			if w.seq-w.cpSeq >= uint64(w.opts.CheckpointEvery) {
				w.checkpoint(false)
			}
		case <-tick.C:
			if w.seq != w.cpSeq {
				w.checkpoint(false)
			}
		}
	}
}

// shutdown seals the chain, stops the replayer, tries once more to empty
// the spool and closes it.
func (w *Writer) shutdown() {
	w.checkpoint(true)
	close(w.stop)
	<-w.replayDone
	sp := w.opts.Spool
	if sp == nil {
		return
	}
	if w.spooling.Load() {
		if err := w.drain(); err != nil {
			w.opts.Logger.Warn("journal spool not emptied at shutdown; it is replayed at the next start",
				"chain", w.opts.Chain, "spool_depth", sp.Depth(), "err", err)
		}
	}
	if err := sp.Close(); err != nil {
		w.opts.Logger.Error("journal spool close failed", "err", err)
	}
}

// commit chains the batch, writes it in one store transaction (or to the
// spool) and reports to every waiter. On failure the chain head is not
// advanced.
func (w *Writer) commit(batch []*pending, items []store.Item) []store.Item {
	seq, head := w.seq, w.head
	now := w.opts.Clock().UTC().Truncate(time.Microsecond)
	for _, p := range batch {
		seq++
		e := decision.Entry{Chain: w.opts.Chain, Seq: seq, Kind: p.kind, RecordID: p.recordID, At: now, Payload: p.payload, PrevHash: head}
		e.Hash = Hash(&e)
		head = e.Hash
		items = append(items, store.Item{Entry: e, Record: p.rec, Doc: p.doc})
	}
	start := time.Now()
	err := w.write(items)
	if w.opts.Observe != nil {
		w.opts.Observe(len(batch), time.Since(start), err)
	}
	if err == nil {
		w.seq, w.head = seq, head
	} else {
		err = fmt.Errorf("journal: commit: %w", err)
		w.opts.Logger.Error("journal commit failed", "chain", w.opts.Chain, "entries", len(batch), "err", err)
	}
	for i, p := range batch {
		p.result <- result{entry: items[i].Entry, err: err}
	}
	clear(items)
	return items
}
