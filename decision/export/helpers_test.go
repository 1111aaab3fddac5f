package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

// fixture is a store written as gateways write it: two policy sets in
// turn, records of every action by two gateway chains, completions,
// notice items marked sent from the command line's chain, and an access.
type fixture struct {
	st    store.Store
	path  string
	key   ed25519.PrivateKey
	from  time.Time // the first record's receipt
	to    time.Time // after the last record
	ids   []string
	setAt time.Time // when the second set took effect
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// applySent is the transition rule for notice-sent, as the command line's.
func applySent(rec *decision.Record, tr decision.Transition) error {
	if tr.State != notices.StateSent || rec.Notice == nil {
		return fmt.Errorf("unexpected transition %s", tr.State)
	}
	n := *rec.Notice
	at := tr.At.UTC()
	n.SentAt, n.SentBy, n.Channel = &at, tr.By, tr.Detail["channel"]
	rec.Notice = &n
	rec.AddFlag(decision.FlagNoticeSent)
	return nil
}

func sets(t testing.TB) (old, cur *policy.Set) {
	t.Helper()
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "configs", "policies")
	cur, err = policy.Load([]string{dir}, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	harm, err := os.ReadFile(filepath.Join(dir, "harm-individualized-denial.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v1 := strings.Replace(strings.Replace(string(harm), `version: "2"`, `version: "1"`, 1), "Circumstances unchanged.", "First review.", 1)
	old, err = policy.Parse("harm-v1.yaml", []byte(v1), policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	return old, cur
}

// newFixture writes n records to a new SQLite store.
func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "records.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := newFixtureOn(t, st, n)
	f.path = path
	return f
}

// newFixtureOn writes n records to st.
func newFixtureOn(t testing.TB, st store.Store, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, key: storetest.TestKey()}
	// The writers stamp entries from their own goroutines.
	var mu sync.Mutex
	clock := t0
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	open := func(chain string) *journal.Writer {
		w, err := journal.Open(ctx, st, journal.Options{Chain: chain, Signer: journal.NewSigner(f.key), CheckpointEvery: 20,
			CheckpointInterval: time.Hour, Clock: now, MaxBatch: 4096})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	old, cur := sets(t)
	gw := []*journal.Writer{open("gw-a"), open("gw-b")}
	journalSet := func(set *policy.Set) {
		at := now()
		if _, err := gw[0].Append(ctx, decision.KindPolicySet, policy.RecordID(set.Hash()), set.Entry("set-"+set.Hash()[:8], at), nil); err != nil {
			t.Fatal(err)
		}
		ptr := decision.PolicySet{ID: "ptr-" + set.Hash()[:8], At: at.UTC(), Hash: set.Hash(), Policies: set.Refs(), CatalogVersion: set.Catalog().Version()}
		if _, err := gw[0].Append(ctx, decision.KindPolicySet, policy.LatestRecordID, ptr, nil); err != nil {
			t.Fatal(err)
		}
	}
	journalSet(old)
	set := old
	var sent []decision.Record
	for i := range n {
		if i == n/2 {
			journalSet(cur)
			set = cur
			f.setAt = now()
		}
		id := fmt.Sprintf("01KREC%06d", i)
		at := now()
		if i == 0 {
			f.from = at
		}
		rec := storetest.Record(id, at, []decision.Action{decision.Allow, decision.Deny, decision.Redact, decision.Throttle}[i%4], func(r *decision.Record) {
			r.Patients = []string{fmt.Sprintf("p%d", i%5)}
			if i == n*3/4 {
				r.Patients = []string{"rare"}
			}
			r.Path, r.Interaction, r.ResourceType, r.ResourceID = "/fhir/Observation", "search-type", "Observation", ""
			r.Requester.Class = []decision.Class{decision.ClassPatient, decision.ClassProvider, decision.ClassApp, decision.ClassHIN}[i%4]
			r.Requester.Subject = fmt.Sprintf("sub-%d", i%3)
			r.PolicySet = set.Hash()
			switch r.Action {
			case decision.Deny:
				p := set.Lookup("harm-pat-0412-representative")
				r.Policies = []decision.PolicyRef{p.Ref()}
				r.Exception = set.Catalog().Ref(p.Entry())
				r.Status = 403
				if i%3 == 0 {
					r.Notice = &decision.NoticeItem{Exception: r.Exception.Code, Duty: "written denial", DueAt: at.Add(30 * 24 * time.Hour)}
					r.AddFlag(decision.FlagNoticeRequired)
				}
			case decision.Redact:
				p := cur.Lookup("part2-non-treating")
				r.Policies = []decision.PolicyRef{p.Ref()}
				r.Exception = cur.Catalog().Ref(p.Entry())
			case decision.Throttle:
				p := cur.Lookup("app-rate-limit")
				ref := p.Ref()
				ref.ReviewOverdue = i%8 == 3
				r.Policies = []decision.PolicyRef{ref}
				r.Status, r.RetryAfter = 429, 3
				if ref.ReviewOverdue {
					r.AddFlag(decision.FlagReviewOverdue)
				}
			}
		})
		w := gw[i%2]
		snap := *rec
		if _, err := w.Append(ctx, decision.KindDecision, id, &snap, &snap); err != nil {
			t.Fatal(err)
		}
		c := decision.Completion{ID: id, FulfilledAt: at.Add(5 * time.Millisecond), Status: 200, BytesOut: int64(200 + i),
			ResourcesReturned: map[string]int{"Observation": i % 4}, Patients: []string{fmt.Sprintf("p%d", (i+1)%5)}}
		if i == n*3/4 {
			c.Patients = nil
		}
		switch rec.Action {
		case decision.Deny:
			c.Status = 403
		case decision.Throttle:
			c.Status = 429
		case decision.Redact:
			c.Withheld = []decision.Withheld{{Type: "Observation", Count: 1, Policy: "part2-non-treating"}}
		case decision.Allow:
			if i%10 == 4 {
				c.Status, c.Flags = 403, []decision.Flag{decision.FlagUpstreamRestriction, decision.FlagUndocumented}
			}
		}
		rec.Complete(c)
		if _, err := w.Append(ctx, decision.KindCompletion, id, c, rec); err != nil {
			t.Fatal(err)
		}
		if rec.Notice != nil {
			sent = append(sent, *rec)
		}
		f.ids = append(f.ids, id)
	}
	f.to = now()
	for _, w := range gw {
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Notices marked sent from the command line, then a look at the records.
	cli := open("cli@gw")
	for _, rec := range sent {
		upd, tr, err := notices.MarkSent(rec, now(), "records office", "mail")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Append(ctx, decision.KindTransition, rec.ID, tr, &upd); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Append(ctx, decision.KindAccess, "01KACCESS", decision.Access{ID: "01KACCESS", At: now(), Actor: "cli:ann", What: "records"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := cli.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// export writes a package of the fixture for opts (key and clock set).
func (f *fixture) export(t testing.TB, opts Options) []byte {
	t.Helper()
	opts.Key = f.key
	opts.Transition = applySent
	opts.TempDir = t.TempDir()
	opts.CreatedBy = "ehigate test"
	opts.Now = func() time.Time { return time.Date(2027, 1, 5, 12, 0, 0, 0, time.UTC) }
	if opts.From.IsZero() {
		opts.From = f.from
	}
	if opts.To.IsZero() {
		opts.To = f.to
	}
	var buf bytes.Buffer
	if _, err := Export(context.Background(), f.st, &buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *fixture) verify(t testing.TB, pkg []byte, keys ...ed25519.PublicKey) *Result {
	t.Helper()
	if keys == nil {
		keys = []ed25519.PublicKey{f.key.Public().(ed25519.PublicKey)}
	}
	res, err := Verify(context.Background(), bytes.NewReader(pkg), int64(len(pkg)), VerifyOptions{Keys: keys, Transition: applySent})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// files returns a package's files in order.
func files(t testing.TB, pkg []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		out[f.Name] = b
	}
	return names, out
}

// rezip writes files back into a package; with key, the manifest's
// hashes are recomputed and it is signed again, as an insider holding
// the journal key could.
func rezip(t testing.TB, names []string, fs map[string][]byte, key ed25519.PrivateKey) []byte {
	t.Helper()
	if key != nil {
		man := mustManifest(t, fs[FileManifest])
		for i, f := range man.Files {
			b, ok := fs[f.Name]
			if !ok {
				continue
			}
			man.Files[i].SHA256, man.Files[i].Size = textSHA256(b), int64(len(b))
		}
		fs[FileManifest] = mustJSON(t, man)
		fs[FileSignature] = signManifest(key, fs[FileManifest])
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		b, ok := fs[n]
		if !ok {
			continue
		}
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
