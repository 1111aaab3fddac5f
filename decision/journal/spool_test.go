package journal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal/spool"
	"github.com/ehigate/ehigate/decision/store"
)

var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))

func openSpool(t *testing.T, dir string) *spool.Spool {
	t.Helper()
	sp, _, err := spool.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// waitFor polls cond until it holds or 20 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

func appendRecords(t *testing.T, w *Writer, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &decision.Record{ID: ids[i], Schema: decision.SchemaV1, ReceivedAt: time.Now().UTC(), Action: decision.Deny}
			_, err := w.Append(context.Background(), decision.KindDecision, ids[i], rec, rec)
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
	return ids
}

func TestSpoolWhileStoreDown(t *testing.T) {
	fs := &failingStore{Store: openStore(t)}
	dir := t.TempDir()
	w, err := Open(context.Background(), fs, Options{Chain: "c", Spool: openSpool(t, dir), ReplayBackoff: time.Millisecond, Signer: NewSigner(testKey), CheckpointEvery: 7})
	if err != nil {
		t.Fatal(err)
	}
	appendRecords(t, w, "a", 5)
	fs.set(true, false)
	// While the store is down every append still succeeds: durable in the spool.
	down := appendRecords(t, w, "b", 40)
	if !w.Spooling() || w.Depth() == 0 {
		t.Fatalf("spooling %v, depth %d", w.Spooling(), w.Depth())
	}
	if seq, _, _ := fs.Store.Head(context.Background(), "c"); seq != 5 {
		t.Fatalf("store head %d while down, want 5", seq)
	}
	fs.set(false, false)
	waitFor(t, "the spool to drain", func() bool { return !w.Spooling() })
	after := appendRecords(t, w, "c", 5)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkChain(t, fs, "c", 50)
	for _, id := range down {
		r, err := fs.Record(context.Background(), id)
		if err != nil || !r.HasFlag(decision.FlagSpooled) {
			t.Fatalf("spooled record %s: flags %v, %v", id, r.Flags, err)
		}
	}
	if r, _ := fs.Record(context.Background(), after[0]); r.HasFlag(decision.FlagSpooled) {
		t.Fatalf("record written directly is flagged spooled")
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*.spool")); len(names) != 0 {
		t.Fatalf("spool files left: %v", names)
	}
	// Checkpoints spooled while down reached the store; the seal is last.
	var cps []store.Checkpoint
	fs.Checkpoints(context.Background(), "c", 0, func(cp store.Checkpoint) error { cps = append(cps, cp); return nil })
	if len(cps) < 2 || !cps[len(cps)-1].Sealed || cps[len(cps)-1].Seq != 50 {
		t.Fatalf("checkpoints = %+v", cps)
	}
	keys := NewKeyring(testKey.Public().(ed25519.PublicKey))
	for _, cp := range cps {
		if err := keys.Verify(&cp); err != nil {
			t.Fatalf("checkpoint %d: %v", cp.Seq, err)
		}
	}
}

func TestSpoolReplayedAtStart(t *testing.T) {
	fs := &failingStore{Store: openStore(t)}
	dir := t.TempDir()
	w, err := Open(context.Background(), fs, Options{Chain: "c", Spool: openSpool(t, dir), ReplayBackoff: time.Hour, CommitTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	appendRecords(t, w, "a", 3)
	fs.set(true, false)
	appendRecords(t, w, "b", 10)
	// Shut down with the store still down: the spool stays for next time.
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if seq, _, _ := fs.Store.Head(context.Background(), "c"); seq != 3 {
		t.Fatalf("store head %d, want 3", seq)
	}
	// The store is back at the next start; even if it were not, the chain
	// would continue from the spool.
	fs.set(false, false)
	w2, err := Open(context.Background(), fs, Options{Chain: "c", Spool: openSpool(t, dir), ReplayBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	appendRecords(t, w2, "c", 4)
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkChain(t, fs, "c", 17)
}

func TestLostAckNotDuplicated(t *testing.T) {
	fs := &failingStore{Store: openStore(t)}
	w, err := Open(context.Background(), fs, Options{Chain: "c", Spool: openSpool(t, t.TempDir()), ReplayBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The store takes the batch but the answer is lost: the batch is
	// spooled, and its replay finds it already stored.
	fs.set(false, true)
	appendRecords(t, w, "a", 1)
	fs.set(false, false)
	waitFor(t, "the spool to drain", func() bool { return !w.Spooling() })
	appendRecords(t, w, "b", 3)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkChain(t, fs, "c", 4)
}

func TestCheckpointsLoggedAndSealed(t *testing.T) {
	st := openStore(t)
	var logBuf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logBuf.Write(p)
	}), nil))
	w, err := Open(context.Background(), st, Options{Chain: "c", Signer: NewSigner(testKey), CheckpointEvery: 10, CheckpointInterval: time.Hour, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if _, err := w.Append(context.Background(), decision.KindAccess, fmt.Sprint(i), decision.Access{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	st.Checkpoints(context.Background(), "c", 0, func(cp store.Checkpoint) error {
		got = append(got, fmt.Sprintf("%d/%v", cp.Seq, cp.Sealed))
		return nil
	})
	if fmt.Sprint(got) != "[10/false 20/false 25/true]" {
		t.Fatalf("checkpoints %v, want every 10 entries and a seal at 25", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := bytes.Count(logBuf.Bytes(), []byte(`"msg":"`+CheckpointLogMessage+`"`)); n != 3 {
		t.Fatalf("%d checkpoint log lines, want 3:\n%s", n, logBuf.String())
	}
}

func TestCheckpointInterval(t *testing.T) {
	st := openStore(t)
	w, err := Open(context.Background(), st, Options{Chain: "c", Signer: NewSigner(testKey), CheckpointInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	if _, err := w.Append(context.Background(), decision.KindAccess, "x", decision.Access{}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a checkpoint after the interval", func() bool {
		n := 0
		st.Checkpoints(context.Background(), "c", 0, func(store.Checkpoint) error { n++; return nil })
		return n > 0
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
