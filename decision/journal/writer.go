package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

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
	// Logger receives errors of asynchronous appends.
	Logger *slog.Logger
	// Observe, when set, is called after each commit with its size,
	// duration and error (for metrics).
	Observe func(batch int, took time.Duration, err error)
}

// Writer appends entries to one chain with group commit.
type Writer struct {
	st   store.Store
	opts Options

	mu     sync.RWMutex // guards closed and sends on in
	closed bool
	in     chan *pending
	done   chan struct{}

	seq  uint64
	head string
}

type pending struct {
	kind     decision.EntryKind
	recordID string
	payload  []byte
	rec      *decision.Record
	result   chan result
}

type result struct {
	entry decision.Entry
	err   error
}

// Open starts a writer continuing chain opts.Chain from its head in st.
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
	seq, head, err := st.Head(ctx, opts.Chain)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if seq == 0 {
		head = Genesis
	}
	w := &Writer{st: st, opts: opts, in: make(chan *pending, 4*opts.MaxBatch), done: make(chan struct{}), seq: seq, head: head}
	go w.loop()
	return w, nil
}

// Chain returns the writer's chain name.
func (w *Writer) Chain() string { return w.opts.Chain }

// Append writes one entry and returns once it is durable in the store.
// payload is encoded as JSON; rec, when not nil, is the record projection
// the entry leaves behind and must not change until Append returns.
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
	p := &pending{kind: kind, recordID: recordID, payload: b, rec: rec, result: make(chan result, 1)}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return nil, ErrClosed
	}
	w.in <- p
	return p.result, nil
}

// Close stops accepting entries, writes every queued one and returns when
// they are all committed (or ctx ends).
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
	batch := make([]*pending, 0, w.opts.MaxBatch)
	items := make([]store.Item, 0, w.opts.MaxBatch)
	for first := range w.in {
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
	}
}

// commit chains the batch, writes it in one store transaction and
// reports to every waiter. On failure the chain head is not advanced.
func (w *Writer) commit(batch []*pending, items []store.Item) []store.Item {
	seq, head := w.seq, w.head
	now := w.opts.Clock().UTC().Truncate(time.Microsecond)
	for _, p := range batch {
		seq++
		e := decision.Entry{Chain: w.opts.Chain, Seq: seq, Kind: p.kind, RecordID: p.recordID, At: now, Payload: p.payload, PrevHash: head}
		e.Hash = Hash(&e)
		head = e.Hash
		items = append(items, store.Item{Entry: e, Record: p.rec})
	}
	start := time.Now()
	err := w.st.Append(context.Background(), items)
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
	return items
}
