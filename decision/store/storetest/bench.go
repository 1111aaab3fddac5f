package storetest

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/store"
)

// benchRecord is a record the size of a typical gateway record.
func benchRecord(id string, at time.Time) *decision.Record {
	return Record(id, at, decision.Deny, func(r *decision.Record) {
		r.Path = "/fhir/Observation"
		r.Interaction, r.ResourceType = "search-type", "Observation"
		r.Patients = []string{"p-" + id[len(id)-3:]}
		r.DataClasses = []string{"Laboratory", "Vital Signs"}
		r.Requester.Scopes = []string{"patient/Observation.rs", "launch/patient", "openid", "fhirUser"}
		r.Requester.TokenHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		r.Exception = &decision.ExceptionRef{Code: "privacy.individual-request", CFR: "45 CFR 171.202(e)", CatalogVersion: "2026-01"}
		r.Policies = []decision.PolicyRef{{ID: "patient-request-restrict", Version: "3", SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Action: decision.Deny, Exception: "privacy.individual-request"}}
		r.PolicySet = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"
		r.Status = 403
		r.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	})
}

// BenchGroupCommit measures records written through a journal Writer by
// concurrent requests (4 and 128), as the gateway writes them: each op
// waits for its decision entry to be durable, then submits its
// completion. It reports records/s and the p50 and p99 wait for a
// durable decision (the latency a request gains).
func BenchGroupCommit(b *testing.B, open func(b *testing.B) store.Store) {
	for _, conc := range []int{4, 128} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) { benchGroupCommit(b, open(b), conc) })
	}
}

func benchGroupCommit(b *testing.B, st store.Store, conc int) {
	ctx := context.Background()
	var commits, entries, commitNs atomic.Int64
	w, err := journal.Open(ctx, st, journal.Options{Chain: "bench", Signer: journal.NewSigner(TestKey()),
		Observe: func(n int, took time.Duration, _ error) {
			commits.Add(1)
			entries.Add(int64(n))
			commitNs.Add(int64(took))
		}})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	var mu sync.Mutex
	var waits []time.Duration
	b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			id := fmt.Sprintf("b%012d", n.Add(1))
			rec := benchRecord(id, time.Now().UTC())
			t0 := time.Now()
			if _, err := w.Append(ctx, decision.KindDecision, id, rec, rec); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
			done := *rec
			c := decision.Completion{ID: id, FulfilledAt: time.Now().UTC(), Status: 403, BytesOut: 512}
			done.Complete(c)
			if err := w.Submit(decision.KindCompletion, id, c, &done); err != nil {
				b.Error(err)
				return
			}
		}
		mu.Lock()
		waits = append(waits, local...)
		mu.Unlock()
	})
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.StopTimer()
	slices.Sort(waits)
	if len(waits) > 0 {
		b.ReportMetric(float64(len(waits))/took.Seconds(), "records/s")
		b.ReportMetric(float64(waits[len(waits)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(waits[len(waits)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(entries.Load())/float64(commits.Load()), "entries/commit")
		b.ReportMetric(float64(commitNs.Load())/float64(commits.Load())/1e3, "µs/commit")
	}
}

// BenchVerify measures verification of a journal of records records (two
// entries each) in two chains, reporting entries/s and records/s.
func BenchVerify(b *testing.B, st store.Store, records int) {
	ctx := context.Background()
	at := t0
	for _, chain := range []string{"v1", "v2"} {
		w, err := journal.Open(ctx, st, journal.Options{Chain: chain, Signer: journal.NewSigner(TestKey()), MaxBatch: 4096})
		if err != nil {
			b.Fatal(err)
		}
		for i := range records / 2 {
			id := fmt.Sprintf("%s-%09d", chain, i)
			at = at.Add(time.Millisecond)
			rec := benchRecord(id, at)
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
	for _, sub := range []struct {
		name string
		skip bool
	}{{"chains", true}, {"chains+records", false}} {
		b.Run(sub.name, func(b *testing.B) {
			opts := verify.Options{Keys: journal.NewKeyring(TestKey().Public().(ed25519.PublicKey)), SkipRecords: sub.skip}
			var entries, checked int64
			start := time.Now()
			for range b.N {
				rep, err := verify.Run(ctx, st, opts)
				if err != nil {
					b.Fatal(err)
				}
				if !rep.OK() {
					b.Fatalf("journal does not verify: %+v", rep)
				}
				entries += rep.Entries
				checked += rep.Records.Checked
			}
			took := time.Since(start).Seconds()
			b.ReportMetric(float64(entries)/took, "entries/s")
			if checked > 0 {
				b.ReportMetric(float64(checked)/took, "records/s")
			}
		})
	}
}
