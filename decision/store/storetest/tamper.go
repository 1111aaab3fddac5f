package storetest

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/store"
)

// Tamperer runs SQL behind a store's back, as someone with access to the
// database could. Statements use "?" placeholders and only the columns
// both stores share in type (no times).
type Tamperer interface {
	Exec(ctx context.Context, query string, args ...any) error
}

// TamperOpener returns a new, empty store and a way to tamper with it.
type TamperOpener func(t *testing.T) (store.Store, Tamperer)

// tamperCase is one way to tamper and what verify must report.
type tamperCase struct {
	name   string
	tamper func(t *testing.T, tc *tamperCtx)
	// chain and reason of the expected chain break ("" for none); seq 0
	// matches any.
	chain  string
	reason verify.Reason
	seq    uint64
	// records is the number of projection problems expected.
	records int64
	// opts adjusts the verification.
	opts func(o *verify.Options, j *Journal)
}

type tamperCtx struct {
	ctx context.Context
	st  store.Store
	db  Tamperer
	j   Journal
}

func (tc *tamperCtx) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if err := tc.db.Exec(tc.ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (tc *tamperCtx) entries(t *testing.T, chain string, from, to uint64) []decision.Entry {
	t.Helper()
	var out []decision.Entry
	if err := tc.st.Entries(tc.ctx, chain, from, to, func(e decision.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// rewrite stores es (already changed) with recomputed hashes from the
// first one on, as an attacker who knows the hash encoding would.
func (tc *tamperCtx) rewrite(t *testing.T, es []decision.Entry) {
	t.Helper()
	prev := es[0].PrevHash
	for i := range es {
		e := &es[i]
		e.PrevHash = prev
		e.Hash = journal.Hash(e)
		prev = e.Hash
		tc.exec(t, `UPDATE entries SET payload = ?, prev_hash = ?, hash = ? WHERE chain = ? AND seq = ?`, e.Payload, e.PrevHash, e.Hash, e.Chain, int64(e.Seq))
	}
}

// RunTamper checks that verify finds each kind of tampering on stores
// made by open, and that clean (and legitimately pruned) journals verify.
// Each case writes chains "a" and "b" of 60 records (120 entries each,
// checkpoints every 25, sealed at 120) and tampers with "a" only.
func RunTamper(t *testing.T, open TamperOpener) {
	for _, c := range tamperCases() {
		t.Run(c.name, func(t *testing.T) {
			st, db := open(t)
			tc := &tamperCtx{ctx: context.Background(), st: st, db: db}
			tc.j = Populate(t, st, []string{"a", "b"}, 60)
			if c.tamper != nil {
				c.tamper(t, tc)
			}
			opts := verify.Options{Keys: journal.NewKeyring(TestKey().Public().(ed25519.PublicKey))}
			if c.opts != nil {
				c.opts(&opts, &tc.j)
			}
			rep, err := verify.Run(tc.ctx, st, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, cr := range rep.Chains {
				want := cr.Chain == c.chain
				switch {
				case want && cr.Break == nil:
					t.Errorf("chain %s: no break found, want %s at seq %d", cr.Chain, c.reason, c.seq)
				case want && (cr.Break.Reason != c.reason || (c.seq != 0 && cr.Break.Seq != c.seq)):
					t.Errorf("chain %s: break %s, want %s at seq %d", cr.Chain, cr.Break, c.reason, c.seq)
				case !want && cr.Break != nil:
					t.Errorf("chain %s: unexpected break %s", cr.Chain, cr.Break)
				}
			}
			if rep.Records.Problems != c.records {
				t.Errorf("%d projection problems (%v), want %d", rep.Records.Problems, rep.Records.Breaks, c.records)
			}
			if rep.OK() != (c.chain == "" && c.records == 0) {
				t.Errorf("report OK = %v", rep.OK())
			}
			if c.chain == "" && c.records == 0 && rep.Records.Checked == 0 {
				t.Errorf("no record was checked")
			}
		})
	}
}

func tamperCases() []tamperCase {
	external := func(o *verify.Options, j *Journal) { o.External = j.Logged }
	const rec = "a-0010" // decided at seq 21, completed at seq 22
	return []tamperCase{
		{name: "clean"},
		{name: "clean with the log copy", opts: external},
		{name: "entry payload edited", chain: "a", reason: verify.ReasonEdited, seq: 10, records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `UPDATE entries SET payload = ? WHERE chain = 'a' AND seq = 10`, []byte(`{"id":"a-0004","action":"allow"}`))
		}},
		{name: "entry edited with its hash recomputed", chain: "a", reason: verify.ReasonLink, seq: 11, records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			e := tc.entries(t, "a", 10, 10)[0]
			e.Payload = []byte(`{"id":"a-0004"}`)
			e.Hash = journal.Hash(&e)
			tc.exec(t, `UPDATE entries SET payload = ?, hash = ? WHERE chain = 'a' AND seq = 10`, e.Payload, e.Hash)
		}},
		{name: "tail rewritten with every hash recomputed", chain: "a", reason: verify.ReasonCheckpoint, seq: 25, records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			es := tc.entries(t, "a", 21, 0)
			es[0].Payload = []byte(`{"id":"a-0010","schema":"v1","action":"allow"}`)
			tc.rewrite(t, es)
		}},
		{name: "entry deleted", chain: "a", reason: verify.ReasonMissing, seq: 30, records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `DELETE FROM entries WHERE chain = 'a' AND seq = 30`)
		}},
		{name: "entry inserted", chain: "a", reason: verify.ReasonEdited, seq: 31, tamper: func(t *testing.T, tc *tamperCtx) {
			// Shift 30.. up by one (highest first), then forge seq 30.
			es := tc.entries(t, "a", 30, 0)
			for i := len(es) - 1; i >= 0; i-- {
				tc.exec(t, `UPDATE entries SET seq = seq + 1 WHERE chain = 'a' AND seq = ?`, int64(es[i].Seq))
			}
			forged := es[0]
			forged.Kind, forged.RecordID, forged.Payload = decision.KindAccess, "x", []byte(`{}`)
			forged.Hash = journal.Hash(&forged)
			tc.exec(t, `INSERT INTO entries (chain, seq, kind, record_id, at, payload, prev_hash, hash)
				SELECT chain, 30, ?, ?, at, ?, prev_hash, ? FROM entries WHERE chain = 'a' AND seq = 31`,
				string(forged.Kind), forged.RecordID, forged.Payload, forged.Hash)
		}},
		{name: "entries reordered", chain: "a", reason: verify.ReasonEdited, seq: 40, tamper: func(t *testing.T, tc *tamperCtx) {
			es := tc.entries(t, "a", 40, 41)
			for i, e := range es {
				o := es[1-i]
				tc.exec(t, `UPDATE entries SET kind = ?, record_id = ?, payload = ?, prev_hash = ?, hash = ? WHERE chain = 'a' AND seq = ?`,
					string(o.Kind), o.RecordID, o.Payload, o.PrevHash, o.Hash, int64(e.Seq))
			}
		}},
		{name: "truncated below a signed checkpoint", chain: "a", reason: verify.ReasonTruncated, seq: 101, records: 10, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `DELETE FROM entries WHERE chain = 'a' AND seq > 100`)
		}},
		{name: "truncated with its checkpoints, log copy kept", chain: "a", reason: verify.ReasonTruncated, seq: 101, records: 10, opts: external, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `DELETE FROM entries WHERE chain = 'a' AND seq > 100`)
			tc.exec(t, `DELETE FROM checkpoints WHERE chain = 'a' AND seq > 100`)
		}},
		{name: "final seal deleted, log copy kept", chain: "a", reason: verify.ReasonCheckpointMissing, seq: 120, opts: external, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `DELETE FROM checkpoints WHERE chain = 'a' AND seq = 120`)
		}},
		{name: "checkpoint signature forged", chain: "a", reason: verify.ReasonSignature, seq: 50, tamper: func(t *testing.T, tc *tamperCtx) {
			other := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
			sig := base64.StdEncoding.EncodeToString(ed25519.Sign(other, []byte("x")))
			tc.exec(t, `UPDATE checkpoints SET signature = ? WHERE chain = 'a' AND seq = 50`, sig)
		}},
		{name: "checkpoint moved to another hash", chain: "a", reason: verify.ReasonSignature, seq: 75, tamper: func(t *testing.T, tc *tamperCtx) {
			e := tc.entries(t, "a", 74, 74)[0]
			tc.exec(t, `UPDATE checkpoints SET hash = ? WHERE chain = 'a' AND seq = 75`, e.Hash)
		}},
		{name: "first entries deleted", chain: "a", reason: verify.ReasonStart, seq: 6, records: 3, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `DELETE FROM entries WHERE chain = 'a' AND seq <= 5`)
		}},
		{name: "pruned before the retention period", chain: "a", reason: verify.ReasonStart, seq: 51,
			opts: func(o *verify.Options, j *Journal) {
				o.Retention, o.Now = 6*365*24*time.Hour, func() time.Time { return j.Clock }
			},
			tamper: func(t *testing.T, tc *tamperCtx) {
				if err := tc.st.Prune(tc.ctx, "a", 50); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "pruned by retention", opts: func(o *verify.Options, j *Journal) {
			o.Retention, o.Now, o.External = time.Hour, func() time.Time { return j.Clock.Add(2 * time.Hour) }, j.Logged
		}, tamper: func(t *testing.T, tc *tamperCtx) {
			pr, err := journal.Prune(tc.ctx, tc.st, tc.j.Clock.Add(-20*time.Second), journal.NewKeyring(TestKey().Public().(ed25519.PublicKey)))
			if err != nil || len(pr) == 0 {
				t.Fatalf("prune = %+v, %v", pr, err)
			}
		}},
		{name: "projection document edited", records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			r, err := tc.st.Record(tc.ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			r.Entries = nil
			r.Requester.Subject = "someone-else"
			doc, _ := jsonMarshal(&r)
			tc.exec(t, `UPDATE records SET doc = ? WHERE id = ?`, doc, rec)
		}},
		{name: "projection column edited", records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `UPDATE records SET action = 'allow', status = 200 WHERE id = 'a-0001'`)
		}},
		{name: "projection row deleted", records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `DELETE FROM records WHERE id = ?`, rec)
		}},
		{name: "projection row inserted without entries", records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `INSERT INTO records (id, received_at, action, interaction, resource_type, subject, client_id, issuer, class, status, exception, flags, policies, doc, spooled)
				SELECT 'a-9999', received_at, action, interaction, resource_type, subject, client_id, issuer, class, status, exception, flags, policies, doc, spooled
				FROM records WHERE id = ?`, rec)
		}},
		{name: "patient index row deleted", records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `DELETE FROM record_patients WHERE record_id = ? AND patient = 'p3'`, rec)
		}},
		{name: "patient index row inserted", records: 1, tamper: func(t *testing.T, tc *tamperCtx) {
			tc.exec(t, `INSERT INTO record_patients (patient, received_at, record_id) SELECT 'p-other', received_at, id FROM records WHERE id = ?`, rec)
		}},
	}
}
