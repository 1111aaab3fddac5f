package verify

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
)

// segmentSource is a Source holding chosen ranges of chains, as an audit
// package does.
type segmentSource struct {
	entries []decision.Entry
	cps     []store.Checkpoint
}

func (s *segmentSource) Chains(context.Context) ([]store.Chain, error) {
	var out []store.Chain
	for _, e := range s.entries {
		if len(out) == 0 || out[len(out)-1].Name != e.Chain {
			out = append(out, store.Chain{Name: e.Chain})
		}
		out[len(out)-1].Seq, out[len(out)-1].Hash = e.Seq, e.Hash
	}
	return out, nil
}

func (s *segmentSource) Entries(_ context.Context, chain string, from, to uint64, fn func(decision.Entry) error) error {
	for _, e := range s.entries {
		if e.Chain == chain && e.Seq >= from && (to == 0 || e.Seq <= to) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *segmentSource) Checkpoints(_ context.Context, chain string, from uint64, fn func(store.Checkpoint) error) error {
	for _, cp := range s.cps {
		if cp.Chain == chain && cp.Seq >= from {
			if err := fn(cp); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *segmentSource) Audit(context.Context, func(*store.AuditRecord) error) error { return nil }

// TestSegments verifies chain segments: the ranges an audit package
// keeps, each starting after a signed checkpoint and, but for the last,
// ending at one.
func TestSegments(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Second)
		return at
	}
	w, err := journal.Open(ctx, st, journal.Options{Chain: "gw", Signer: journal.NewSigner(key), CheckpointEvery: 10, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 45 {
		id := string(rune('a'+i%26)) + string(rune('a'+i/26))
		rec := &decision.Record{ID: id, Schema: decision.SchemaV1, ReceivedAt: now(), Action: decision.Allow}
		if _, err := w.Append(ctx, decision.KindDecision, id, rec, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var all []decision.Entry
	st.Entries(ctx, "gw", 0, 0, func(e decision.Entry) error { all = append(all, e); return nil })
	var cps []store.Checkpoint
	st.Checkpoints(ctx, "gw", 0, func(cp store.Checkpoint) error { cps = append(cps, cp); return nil })
	// Checkpoints every 10 entries, and the seal at 45.
	if len(cps) != 5 || cps[0].Seq != 10 || cps[4].Seq != 45 {
		t.Fatalf("checkpoints %+v", cps)
	}
	pick := func(ranges ...[2]uint64) []decision.Entry {
		var out []decision.Entry
		for _, e := range all {
			for _, r := range ranges {
				if e.Seq >= r[0] && e.Seq <= r[1] {
					out = append(out, e)
				}
			}
		}
		return out
	}
	keys := journal.NewKeyring(key.Public().(ed25519.PublicKey))
	otherKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	tests := []struct {
		name   string
		src    *segmentSource
		reason Reason
		gaps   int
	}{
		{"whole chain", &segmentSource{all, cps}, "", 0},
		{"two segments", &segmentSource{pick([2]uint64{11, 20}, [2]uint64{31, 45}), cps}, "", 1},
		{"from the genesis, a gap", &segmentSource{pick([2]uint64{1, 10}, [2]uint64{21, 30}), cps[:3]}, "", 1},
		{"segment cut short", &segmentSource{pick([2]uint64{11, 18}, [2]uint64{31, 45}), cps}, ReasonMissing, 0},
		{"segment not after a checkpoint", &segmentSource{pick([2]uint64{11, 20}, [2]uint64{33, 45}), cps}, ReasonMissing, 0},
		{"start not after a checkpoint", &segmentSource{pick([2]uint64{12, 20}), cps}, ReasonStart, 0},
		{"last segment truncated", &segmentSource{pick([2]uint64{11, 20}, [2]uint64{31, 40}), cps}, ReasonTruncated, 0},
		{"forged checkpoint", &segmentSource{pick([2]uint64{11, 20}, [2]uint64{31, 45}), slices.Concat(cps[:2], []store.Checkpoint{resign(cps[2], otherKey)}, cps[3:])}, ReasonSignature, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(ctx, tc.src, Options{Keys: keys, Segments: true})
			if err != nil {
				t.Fatal(err)
			}
			c := rep.Chains[0]
			switch {
			case tc.reason == "" && c.Break != nil:
				t.Fatalf("break: %s", c.Break)
			case tc.reason != "" && (c.Break == nil || c.Break.Reason != tc.reason):
				t.Fatalf("break %v, want %s", c.Break, tc.reason)
			case tc.reason == "" && (len(c.Gaps) != tc.gaps || c.Pruned):
				t.Fatalf("report %+v", c)
			}
		})
	}
	// Without Options.Segments a gap is entries missing.
	rep, err := Run(ctx, &segmentSource{pick([2]uint64{1, 10}, [2]uint64{21, 30}), cps}, Options{Keys: keys})
	if err != nil || rep.OK() || rep.Chains[0].Break.Reason != ReasonMissing {
		t.Fatalf("a gap in a whole chain: %+v, %v", rep, err)
	}
	if _, _, err := Recompute("zz", nil, nil); err == nil {
		t.Error("Recompute of no entries")
	}
	if _, _, err := Recompute("ab", all[26:27], nil); err != nil {
		t.Errorf("Recompute: %v", err)
	}
	tr := decision.Entry{Kind: decision.KindTransition, RecordID: "ab", Payload: []byte(`{"id":"ab"}`)}
	if _, _, err := Recompute("ab", []decision.Entry{all[26], tr}, nil); !errors.Is(err, ErrNoTransitionRule) {
		t.Errorf("Recompute with a transition and no rule: %v", err)
	}
}

func resign(cp store.Checkpoint, k ed25519.PrivateKey) store.Checkpoint {
	journal.NewSigner(k).Sign(&cp)
	return cp
}
