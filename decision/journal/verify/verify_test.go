package verify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
)

var key = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))

func TestParseLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("gateway listening", "addr", ":8080")
	cp := store.Checkpoint{Chain: "c", Seq: 9, Hash: journal.Genesis, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Sealed: true}
	journal.NewSigner(key).Sign(&cp)
	log.Info(journal.CheckpointLogMessage, "checkpoint", cp)
	buf.WriteString("not json\n{\"msg\":\"journal checkpoint\"}\n")
	got, err := ParseLog(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != cp {
		t.Fatalf("ParseLog = %+v, want %+v", got, cp)
	}
	if err := journal.NewKeyring(key.Public().(ed25519.PublicKey)).Verify(&got[0]); err != nil {
		t.Fatalf("a checkpoint read back from the log does not verify: %v", err)
	}
}

func FuzzParseLog(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"journal checkpoint","checkpoint":{"chain":"c","seq":9,"hash":"00","at":"2026-01-01T00:00:00Z","sealed":true,"key_id":"k","sig":"s"}}` + "\n"))
	f.Add([]byte("{\"msg\":\"journal checkpoint\",\"checkpoint\":{}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cps, err := ParseLog(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, cp := range cps {
			if cp.Chain == "" || cp.Seq == 0 {
				t.Fatalf("incomplete checkpoint accepted: %+v", cp)
			}
		}
	})
}

// TestReportText checks what an auditor reads, on a real journal.
func TestReportText(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w, err := journal.Open(ctx, st, journal.Options{Chain: "pod-a", Signer: journal.NewSigner(key)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &decision.Record{ID: "r1", Schema: decision.SchemaV1, ReceivedAt: time.Now().UTC(), Action: decision.Allow}
	if _, err := w.Append(ctx, decision.KindDecision, "r1", rec, rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	keys := journal.NewKeyring(key.Public().(ed25519.PublicKey))
	tests := []struct {
		name   string
		tamper string
		want   []string
	}{
		{"clean", "", []string{"chain pod-a: ok, seq 1..1 (1 entries), 1 checkpoint(s), sealed", "records: 1 recomputed from their entries, all match the projection", "\nOK\n"}},
		{"edited", `UPDATE records SET action = 'deny'`, []string{"records: 1 recomputed, 1 do not match the projection",
			"first in chain pod-a: projection at seq 1 (record r1): projection column action differs", "\nBROKEN\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tamper != "" {
				// The store's own connection is not exported; tamper via
				// a second handle on the same file.
				tamper(t, st.Path(), tc.tamper)
			}
			rep, err := Run(ctx, st, Options{Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.WriteText(&out)
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestTransitions: a transition entry written by another chain updates the
// projection; verify recomputes it with the transition rules it is given,
// and without them counts the record as not checked.
func TestTransitions(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys := journal.NewKeyring(key.Public().(ed25519.PublicKey))
	at := time.Now().UTC()
	rec := &decision.Record{ID: "r1", Schema: decision.SchemaV1, ReceivedAt: at, Action: decision.Deny, Reason: "x"}
	for _, step := range []struct {
		chain string
		kind  decision.EntryKind
		body  any
		upd   func(r *decision.Record)
	}{
		{"gw", decision.KindDecision, nil, func(*decision.Record) {}},
		{"gw", decision.KindCompletion, decision.Completion{ID: "r1", FulfilledAt: at, Status: 403}, func(r *decision.Record) {
			r.Complete(decision.Completion{ID: "r1", FulfilledAt: at, Status: 403})
		}},
		{"cli", decision.KindTransition, decision.Transition{ID: "r1", At: at.Add(time.Hour), State: "reviewed", By: "ann"}, func(r *decision.Record) {
			r.AddFlag("reviewed")
		}},
	} {
		w, err := journal.Open(ctx, st, journal.Options{Chain: step.chain, Signer: journal.NewSigner(key), Clock: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		step.upd(rec)
		snap := *rec
		body := step.body
		if body == nil {
			body = &snap
		}
		if _, err := w.Append(ctx, step.kind, "r1", body, &snap); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	apply := func(r *decision.Record, tr decision.Transition) error {
		if tr.State != "reviewed" {
			return errors.New("unknown transition")
		}
		r.AddFlag("reviewed")
		return nil
	}
	wrong := func(r *decision.Record, tr decision.Transition) error { return nil }
	tests := []struct {
		name                         string
		apply                        func(*decision.Record, decision.Transition) error
		checked, problems, unchecked int64
	}{
		{"with the rules", apply, 1, 0, 0},
		{"without rules", nil, 0, 0, 1},
		{"rules that do not match the projection", wrong, 1, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(ctx, st, Options{Keys: keys, Transition: tc.apply})
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Records
			if got.Checked != tc.checked || got.Problems != tc.problems || got.Unchecked != tc.unchecked {
				t.Fatalf("records %+v, want checked %d problems %d unchecked %d", got, tc.checked, tc.problems, tc.unchecked)
			}
		})
	}
}
