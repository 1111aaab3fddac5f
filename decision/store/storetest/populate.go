package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/store"
)

// TestKey is a fixed signing key for tests.
func TestKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
}

// Journal is what Populate wrote: the checkpoints as logged (a copy
// outside the store), and every record id by chain.
type Journal struct {
	Logged  []store.Checkpoint
	Records map[string][]string
	// Clock is the time after the last entry.
	Clock time.Time
}

// Populate writes records to st as the gateway does, through journal
// writers (one per chain) signing a checkpoint every 25 entries and
// sealing at Close: each record is a decision entry and a completion
// entry, each leaving its projection. It returns what it wrote.
func Populate(t testing.TB, st store.Store, chains []string, perChain int) Journal {
	t.Helper()
	ctx := context.Background()
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewJSONHandler(lockedWriter{&logBuf, &logMu}, nil))
	j := Journal{Records: map[string][]string{}}
	clock := t0
	var clockMu sync.Mutex
	now := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	for _, chain := range chains {
		w, err := journal.Open(ctx, st, journal.Options{Chain: chain, Signer: journal.NewSigner(TestKey()), CheckpointEvery: 25,
			CheckpointInterval: time.Hour, Clock: now, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		for i := range perChain {
			id := fmt.Sprintf("%s-%04d", chain, i)
			at := now()
			rec := Record(id, at, []decision.Action{decision.Allow, decision.Deny, decision.Redact}[i%3], func(r *decision.Record) {
				r.Patients = []string{fmt.Sprintf("p%d", i%7)}
				if r.Action == decision.Deny {
					r.Exception = &decision.ExceptionRef{Code: "privacy.individual-request"}
					r.Policies = []decision.PolicyRef{{ID: "no-share", Version: "1", Action: decision.Deny}}
					r.Status = 403
				}
			})
			snap := *rec
			if _, err := w.Append(ctx, decision.KindDecision, id, &snap, &snap); err != nil {
				t.Fatal(err)
			}
			c := decision.Completion{ID: id, FulfilledAt: at.Add(time.Millisecond), Status: 200, BytesOut: int64(100 + i),
				ResourcesReturned: map[string]int{"Observation": i % 5}, Patients: []string{fmt.Sprintf("q%d", i%3)}}
			if rec.Action == decision.Deny {
				c.Status = 403
			}
			rec.Complete(c)
			if _, err := w.Append(ctx, decision.KindCompletion, id, c, rec); err != nil {
				t.Fatal(err)
			}
			j.Records[chain] = append(j.Records[chain], id)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	cps, err := verify.ParseLog(&logBuf)
	if err != nil {
		t.Fatal(err)
	}
	j.Logged, j.Clock = cps, now()
	return j
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
