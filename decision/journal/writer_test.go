package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// checkChain re-reads a chain and checks every link.
func checkChain(t *testing.T, st store.Store, chain string, want int) {
	t.Helper()
	prev, n := Genesis, 0
	err := st.Entries(context.Background(), chain, 1, 0, func(e decision.Entry) error {
		n++
		if e.Seq != uint64(n) || e.PrevHash != prev || Hash(&e) != e.Hash {
			return fmt.Errorf("entry %d breaks the chain", e.Seq)
		}
		prev = e.Hash
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("chain has %d entries, want %d", n, want)
	}
}

func TestGroupCommitConcurrent(t *testing.T) {
	st := openStore(t)
	var batches []int
	var mu sync.Mutex
	w, err := Open(context.Background(), st, Options{Chain: "c", MaxBatch: 64, Observe: func(n int, _ time.Duration, err error) {
		mu.Lock()
		batches = append(batches, n)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("r%04d", i)
			rec := &decision.Record{ID: id, Schema: decision.SchemaV1, ReceivedAt: time.Now(), Action: decision.Allow}
			e, err := w.Append(context.Background(), decision.KindDecision, id, rec, rec)
			if err == nil && (e.Seq == 0 || e.RecordID != id) {
				err = fmt.Errorf("entry %+v", e)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkChain(t, st, "c", n)
	if len(batches) >= n {
		t.Errorf("%d commits for %d concurrent appends: no grouping happened", len(batches), n)
	}
	for _, b := range batches {
		if b > 64 {
			t.Errorf("batch of %d exceeds MaxBatch", b)
		}
	}
	recs, _, err := st.Records(context.Background(), store.Query{Limit: 1000})
	if err != nil || len(recs) != n {
		t.Fatalf("%d records projected, want %d (%v)", len(recs), n, err)
	}
}

func TestReopenContinuesChain(t *testing.T) {
	st := openStore(t)
	for round := range 3 {
		w, err := Open(context.Background(), st, Options{Chain: "c"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := w.Append(context.Background(), decision.KindAccess, fmt.Sprint(round, i), decision.Access{Actor: "x"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Submit(decision.KindAccess, "async", decision.Access{Actor: "y"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Append(context.Background(), decision.KindAccess, "late", decision.Access{}, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("append after close: %v", err)
		}
	}
	checkChain(t, st, "c", 15)
}

// failingStore fails writes while down is set; with lostAck it writes
// but reports a failure (a commit whose answer the network lost).
type failingStore struct {
	store.Store
	mu      sync.Mutex
	down    bool
	lostAck bool
}

func (f *failingStore) set(down, lostAck bool) {
	f.mu.Lock()
	f.down, f.lostAck = down, lostAck
	f.mu.Unlock()
}

func (f *failingStore) state() (bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down, f.lostAck
}

func (f *failingStore) Append(ctx context.Context, items []store.Item) error {
	down, lost := f.state()
	if down {
		return store.ErrUnavailable
	}
	if err := f.Store.Append(ctx, items); err != nil || !lost {
		return err
	}
	return store.ErrUnavailable
}

func (f *failingStore) PutCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	if down, _ := f.state(); down {
		return store.ErrUnavailable
	}
	return f.Store.PutCheckpoint(ctx, cp)
}

func TestFailedCommitDoesNotAdvanceChain(t *testing.T) {
	fs := &failingStore{Store: openStore(t)}
	w, err := Open(context.Background(), fs, Options{Chain: "c"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	ctx := context.Background()
	if _, err := w.Append(ctx, decision.KindAccess, "1", decision.Access{}, nil); err != nil {
		t.Fatal(err)
	}
	fs.set(true, false)
	if _, err := w.Append(ctx, decision.KindAccess, "2", decision.Access{}, nil); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("append while down: %v", err)
	}
	fs.set(false, false)
	e, err := w.Append(ctx, decision.KindAccess, "3", decision.Access{}, nil)
	if err != nil || e.Seq != 2 {
		t.Fatalf("append after recovery: seq %d, %v", e.Seq, err)
	}
	checkChain(t, fs, "c", 2)
}
