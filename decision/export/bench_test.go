package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/postgres"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

// postgresStore returns a PostgreSQL store in a fresh schema (dropped at
// cleanup), skipping when the test server does not answer
// (EHIGATE_TEST_POSTGRES, default the local test database).
func postgresStore(tb testing.TB) store.Store {
	tb.Helper()
	base := os.Getenv("EHIGATE_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	storetest.LockPostgres(tb, false)
	ctx := context.Background()
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, base)
	if err != nil {
		if os.Getenv("EHIGATE_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("PostgreSQL at %s does not answer: %v", base, err)
		}
		tb.Skipf("PostgreSQL at %s does not answer (set EHIGATE_TEST_POSTGRES): %v", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "ehigate_export_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	st, err := postgres.Open(ctx, base+sep+"search_path="+schema+"&synchronous_commit=off", postgres.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// TestRoundTripPostgres exports from PostgreSQL (times come back as
// timestamptz) and verifies the package.
func TestRoundTripPostgres(t *testing.T) {
	f := newFixtureOn(t, postgresStore(t), 80)
	for _, filter := range []Filter{{}, {Patient: "rare"}} {
		res := f.verify(t, f.export(t, Options{Filter: filter}))
		if !res.OK() || res.Records == 0 {
			var out strings.Builder
			res.WriteText(&out)
			t.Fatalf("filter %+v:\n%s", filter, out.String())
		}
	}
}

// BenchmarkExport measures an audit package of a whole window of
// records (about 700-byte records, a decision and a completion entry
// each, in two chains): time, records/s, package size and the peak heap
// in use while exporting, which stays flat whatever the record count.
//
//	go test -run x -bench Export -benchtime 1x ./decision/export
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("sqlite/records=%d", n), func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			benchExport(b, st, n)
		})
		b.Run(fmt.Sprintf("postgres/records=%d", n), func(b *testing.B) { benchExport(b, postgresStore(b), n) })
	}
}

func benchExport(b *testing.B, st store.Store, n int) {
	ctx := context.Background()
	from, to := populate(b, st, n)
	key := storetest.TestKey()
	var size atomic.Int64
	var peak uint64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		stop := sampleHeap(&peak)
		w := countingWriter{n: &size}
		man, err := Export(ctx, st, w, Options{From: from, To: to, Key: key, TempDir: b.TempDir()})
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if man.Records != n {
			b.Fatalf("%d records exported, want %d", man.Records, n)
		}
	}
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/took.Seconds(), "records/s")
	b.ReportMetric(float64(size.Load())/float64(b.N)/(1<<20), "MB/package")
	b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
}

// populate writes n records through two journal writers as the gateway
// does (group commit) and returns the window that holds them.
func populate(b testing.TB, st store.Store, n int) (from, to time.Time) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	from = at
	// Entries are stamped with the time of the record being written.
	var clock atomic.Int64
	clock.Store(at.UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()).UTC() }
	for _, chain := range []string{"gw-1", "gw-2"} {
		w, err := journal.Open(ctx, st, journal.Options{Chain: chain, Signer: journal.NewSigner(storetest.TestKey()), MaxBatch: 4096, Clock: now})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n / 2 {
			id := fmt.Sprintf("%s-%09d", chain, i)
			at = at.Add(time.Millisecond)
			clock.Store(at.UnixMicro())
			rec := storetest.Record(id, at, decision.Deny, func(r *decision.Record) {
				r.Path, r.Interaction, r.ResourceType = "/fhir/Observation", "search-type", "Observation"
				r.Patients = []string{fmt.Sprintf("p-%04d", i%1000)}
				r.DataClasses = []string{"Laboratory", "Vital Signs"}
				r.Requester.Scopes = []string{"patient/Observation.rs", "launch/patient", "openid", "fhirUser"}
				r.Requester.TokenHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
				r.Exception = &decision.ExceptionRef{Code: "privacy.individual-request", CFR: "45 CFR 171.202(e)", CatalogVersion: "2026.07.1"}
				r.Policies = []decision.PolicyRef{{ID: "patient-request-restrict", Version: "3", SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Action: decision.Deny, Exception: "privacy.individual-request"}}
				r.Status = 403
			})
			if err := w.Submit(decision.KindDecision, id, rec, rec); err != nil {
				b.Fatal(err)
			}
			done := *rec
			c := decision.Completion{ID: id, FulfilledAt: at.Add(time.Millisecond), Status: 403, BytesOut: 512}
			done.Complete(c)
			if err := w.Submit(decision.KindCompletion, id, c, &done); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return from, at.Add(time.Second)
}

type countingWriter struct{ n *atomic.Int64 }

func (c countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

var _ io.Writer = countingWriter{}

// sampleHeap records the largest HeapInuse seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > *peak {
				*peak = ms.HeapInuse
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
