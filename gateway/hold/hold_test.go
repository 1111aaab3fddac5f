package hold_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/gateway/hold"
)

var t0 = time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fetcher answers from a function and counts its calls.
type fetcher struct {
	calls atomic.Int64
	fn    func(req *store.HeldRequest) (*store.HeldResponse, error)
}

func (f *fetcher) Fetch(_ context.Context, req *store.HeldRequest, max int64) (*store.HeldResponse, error) {
	f.calls.Add(1)
	r, err := f.fn(req)
	if err == nil && int64(len(r.Body)) > max {
		return nil, hold.ErrTooLarge
	}
	return r, err
}

func okFetcher() *fetcher {
	return &fetcher{fn: func(req *store.HeldRequest) (*store.HeldResponse, error) {
		if req.Header.Get("Authorization") != "Bearer tok" {
			return &store.HeldResponse{Status: 401}, nil
		}
		return &store.HeldResponse{Status: 200, Header: http.Header{"Content-Type": {"application/fhir+json"}},
			Body: []byte(`{"resourceType":"DiagnosticReport","id":"r1"}`), FetchedAt: t0}, nil
	}}
}

// env is a store, a journal and a clock; managers share them as replicas
// share a database.
type env struct {
	t   *testing.T
	st  *sqlite.Store
	j   *journal.Writer
	clk *clock
}

func newEnv(t *testing.T) *env {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	j, err := journal.Open(context.Background(), st, journal.Options{Chain: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(context.Background()) })
	return &env{t: t, st: st, j: j, clk: &clock{t: t0}}
}

func (e *env) manager(f hold.Fetcher) *hold.Manager {
	return hold.New(hold.Options{Store: e.st, Journal: e.j, Fetcher: f, Clock: e.clk.now, Keep: 24 * time.Hour})
}

// park records a delay decision and its completion, as the gateway does,
// and parks the hold.
func (e *env) park(m *hold.Manager, id string, releaseAt time.Time) *store.Hold {
	e.t.Helper()
	ctx := context.Background()
	rec := decision.Record{ID: "rec-" + id, Schema: decision.SchemaV1, ReceivedAt: t0, DecidedAt: t0, Action: decision.Delay,
		Interaction: "read", Method: "GET", Path: "/fhir/DiagnosticReport/r1",
		Hold: &decision.HoldRef{ID: id, StatusURL: "http://gw/fhir/_hold/" + id, State: decision.HoldHeld}}
	if !releaseAt.IsZero() {
		rec.Hold.ReleaseAt = &releaseAt
	}
	if _, err := e.j.Append(ctx, decision.KindDecision, rec.ID, &rec, &rec); err != nil {
		e.t.Fatal(err)
	}
	h := &store.Hold{ID: id, RecordID: rec.ID, Owner: "owner", Policy: "results-hold", CreatedAt: t0, ReleaseAt: releaseAt,
		Request: store.HeldRequest{Method: "GET", Path: "DiagnosticReport/r1", Header: http.Header{"Authorization": {"Bearer tok"}}}}
	if err := m.Park(ctx, h, &rec); err != nil {
		e.t.Fatal(err)
	}
	c := decision.Completion{ID: rec.ID, FulfilledAt: t0, Status: 202, BytesOut: 100}
	rec.Complete(c)
	if _, err := e.j.Append(ctx, decision.KindCompletion, rec.ID, c, &rec); err != nil {
		e.t.Fatal(err)
	}
	return h
}

func (e *env) record(id string) decision.Record {
	e.t.Helper()
	r, err := e.st.Record(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// verifyStore checks the journal and that every record recomputed from
// its entries (hold transitions applied) matches its projection.
func (e *env) verifyStore() {
	e.t.Helper()
	rep, err := verify.Run(context.Background(), e.st, verify.Options{Transition: hold.Apply})
	if err != nil {
		e.t.Fatal(err)
	}
	var b bytes.Buffer
	rep.WriteText(&b)
	if !rep.OK() || rep.Records.Unchecked > 0 || rep.Records.Checked == 0 {
		e.t.Fatalf("verification: %s", b.String())
	}
}

func states(recs ...decision.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, string(r.Hold.State))
	}
	return strings.Join(s, ",")
}

func TestReleaseAtTime(t *testing.T) {
	e := newEnv(t)
	f := okFetcher()
	m := e.manager(f)
	ctx := context.Background()
	e.park(m, "h1", t0.Add(time.Hour))
	if n, err := m.Step(ctx); err != nil || n != 0 {
		t.Fatalf("before its time: moved %d, %v", n, err)
	}
	e.clk.add(time.Hour)
	if n, err := m.Step(ctx); err != nil || n != 1 {
		t.Fatalf("at its time: moved %d, %v", n, err)
	}
	h, err := m.Get(ctx, "h1", "owner")
	if err != nil || h.State != store.HoldReady || h.Response == nil || h.Response.Status != 200 || h.Request.Header.Get("Authorization") != "" {
		t.Fatalf("released hold: %+v %v", h, err)
	}
	if _, err := m.Get(ctx, "h1", "someone-else"); !errors.Is(err, hold.ErrNotOwner) {
		t.Fatalf("another requester: %v", err)
	}
	if err := m.Collected(ctx, &h); err != nil {
		t.Fatal(err)
	}
	if err := e.j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := e.record("rec-h1")
	if r.Hold.State != decision.HoldFulfilled || r.Hold.ReleasedBy != hold.SystemActor || r.Hold.ReleaseReason != hold.ReasonTimeReached ||
		r.Hold.ReleasedAt == nil || !r.Hold.ReleasedAt.Equal(t0.Add(time.Hour)) || r.Hold.CollectedAt == nil || r.Status != 202 {
		t.Fatalf("record: %+v hold %+v", r, r.Hold)
	}
	var kinds []string
	for _, en := range r.Entries {
		kinds = append(kinds, string(en.Kind))
	}
	if got := strings.Join(kinds, " "); got != "decision transition completion transition transition" {
		t.Fatalf("entries %s", got)
	}
	e.verifyStore()
}

func TestStaffRelease(t *testing.T) {
	e := newEnv(t)
	f := okFetcher()
	gw := e.manager(f)
	cli := e.manager(nil) // the command line releases, a gateway fetches
	ctx := context.Background()
	e.park(gw, "h2", time.Time{})
	e.clk.add(30 * 24 * time.Hour)
	if n, _ := gw.Step(ctx); n != 0 {
		t.Fatal("a staff-only hold was released by time")
	}
	if _, err := cli.Release(ctx, "h2", "", "x"); err == nil {
		t.Fatal("a release without who was accepted")
	}
	if _, err := cli.Release(ctx, "h2", "Dr. Chen", "results discussed with the patient"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Release(ctx, "h2", "Dr. Chen", "again"); !errors.Is(err, hold.ErrState) {
		t.Fatalf("second release: %v", err)
	}
	if n, err := gw.Step(ctx); err != nil || n != 1 || f.calls.Load() != 1 {
		t.Fatalf("fetch after the staff release: moved %d, calls %d, %v", n, f.calls.Load(), err)
	}
	e.j.Close(ctx)
	r := e.record("rec-h2")
	if r.Hold.State != decision.HoldReleased || r.Hold.ReleasedBy != "Dr. Chen" || r.Hold.ReleaseReason != "results discussed with the patient" {
		t.Fatalf("record hold %+v", r.Hold)
	}
	e.verifyStore()
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	m := e.manager(okFetcher())
	ctx := context.Background()
	e.park(m, "h3", t0.Add(time.Minute))
	e.clk.add(time.Minute)
	m.Step(ctx)
	e.clk.add(23 * time.Hour)
	if n, _ := m.Step(ctx); n != 0 {
		t.Fatal("expired before it was kept long enough")
	}
	e.clk.add(time.Hour)
	if n, err := m.Step(ctx); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v", n, err)
	}
	h, _ := e.st.Hold(ctx, "h3")
	if h.State != store.HoldExpired || h.Response != nil {
		t.Fatalf("expired hold keeps its answer: %+v", h)
	}
	if err := m.Collected(ctx, &h); !errors.Is(err, hold.ErrState) {
		t.Fatalf("collect an expired hold: %v", err)
	}
	e.j.Close(ctx)
	if r := e.record("rec-h3"); r.Hold.State != decision.HoldExpired || r.Hold.ExpiredAt == nil {
		t.Fatalf("record hold %+v", r.Hold)
	}
	e.verifyStore()
}

func TestFetchFailures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	down := &fetcher{fn: func(*store.HeldRequest) (*store.HeldResponse, error) { return nil, errors.New("connection refused") }}
	m := e.manager(down)
	e.park(m, "h4", t0)
	if _, err := m.Step(ctx); err == nil {
		t.Fatal("a failed fetch was not reported")
	}
	h, _ := e.st.Hold(ctx, "h4")
	if h.State != store.HoldReleased || h.Attempts != 1 || h.LastError == "" || !h.DueAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("after a failed fetch: %+v", h)
	}
	if n, _ := m.Step(ctx); n != 0 || down.calls.Load() != 1 {
		t.Fatal("retried before its backoff")
	}
	big := &fetcher{fn: func(*store.HeldRequest) (*store.HeldResponse, error) {
		return &store.HeldResponse{Status: 200, Body: make([]byte, hold.DefaultMaxResponse+1)}, nil
	}}
	e.clk.add(time.Minute)
	if n, err := e.manager(big).Step(ctx); err != nil || n != 1 {
		t.Fatalf("too large: %d %v", n, err)
	}
	if h, _ := e.st.Hold(ctx, "h4"); h.State != store.HoldExpired {
		t.Fatalf("an answer too large to keep: %s", h.State)
	}
}

// TestReplicas runs the releaser of three replicas at once over the same
// holds: each answer is fetched once.
func TestReplicas(t *testing.T) {
	e := newEnv(t)
	f := okFetcher()
	replicas := []*hold.Manager{e.manager(f), e.manager(f), e.manager(f)}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		e.park(replicas[0], id, t0.Add(time.Minute))
	}
	e.clk.add(time.Minute)
	var wg sync.WaitGroup
	var moved atomic.Int64
	for _, m := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, _ := m.Step(context.Background())
			moved.Add(int64(n))
		}()
	}
	wg.Wait()
	if f.calls.Load() != 5 || moved.Load() != 5 {
		t.Fatalf("%d fetches, %d moves for 5 holds", f.calls.Load(), moved.Load())
	}
	e.j.Close(context.Background())
	var recs []decision.Record
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		recs = append(recs, e.record("rec-"+id))
	}
	if got := states(recs...); got != "released,released,released,released,released" {
		t.Fatalf("record states %s", got)
	}
	e.verifyStore()
}

func TestApply(t *testing.T) {
	at := t0.Add(time.Hour)
	tests := []struct {
		name string
		tr   decision.Transition
		rec  decision.Record
		want func(decision.HoldRef) bool
		err  bool
	}{
		{"released", decision.Transition{State: "released", At: at, By: "x", Reason: "y"}, decision.Record{Hold: &decision.HoldRef{State: "held"}},
			func(h decision.HoldRef) bool {
				return h.State == "released" && h.ReleasedBy == "x" && h.ReleaseReason == "y" && h.ReleasedAt.Equal(at)
			}, false},
		{"fulfilled", decision.Transition{State: "fulfilled", At: at}, decision.Record{Hold: &decision.HoldRef{State: "released"}},
			func(h decision.HoldRef) bool { return h.State == "fulfilled" && h.CollectedAt.Equal(at) }, false},
		{"expired", decision.Transition{State: "expired", At: at}, decision.Record{Hold: &decision.HoldRef{State: "released"}},
			func(h decision.HoldRef) bool { return h.State == "expired" && h.ExpiredAt.Equal(at) }, false},
		{"not a hold transition", decision.Transition{State: "notice-sent", At: at}, decision.Record{},
			func(h decision.HoldRef) bool { return true }, false},
		{"record without a hold", decision.Transition{State: "released", At: at}, decision.Record{}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.rec.Hold
			err := hold.Apply(&tc.rec, tc.tr)
			if (err != nil) != tc.err {
				t.Fatalf("err %v", err)
			}
			if err == nil && tc.rec.Hold != nil && !tc.want(*tc.rec.Hold) {
				t.Fatalf("hold %+v", tc.rec.Hold)
			}
			if before != nil && before == tc.rec.Hold && hold.IsTransition(tc.tr) {
				t.Fatal("Apply changed the hold in place (it may be shared)")
			}
		})
	}
}

// TestPruneFinished: finished holds past KeepFinished leave the store,
// held ones stay, and the journal still verifies with every transition.
func TestPruneFinished(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := hold.New(hold.Options{Store: e.st, Journal: e.j, Fetcher: okFetcher(), Clock: e.clk.now, Keep: 24 * time.Hour,
		KeepFinished: 30 * 24 * time.Hour})
	e.park(m, "done", t0.Add(time.Minute))
	e.park(m, "waiting", time.Time{}) // released by staff, never
	e.clk.add(time.Minute)
	m.Step(ctx) // released and fetched: ready
	e.clk.add(25 * time.Hour)
	m.Step(ctx) // expired uncollected
	if h, err := e.st.Hold(ctx, "done"); err != nil || h.State != store.HoldExpired {
		t.Fatalf("before pruning: %+v %v", h, err)
	}
	if n := m.Prune(ctx); n != 0 {
		t.Fatalf("pruned %d holds before keep_finished", n)
	}
	e.clk.add(30 * 24 * time.Hour)
	if n := m.Prune(ctx); n != 1 {
		t.Fatalf("pruned %d holds, want 1", n)
	}
	if _, err := e.st.Hold(ctx, "done"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("finished hold still stored: %v", err)
	}
	if h, err := e.st.Hold(ctx, "waiting"); err != nil || h.State != store.HoldHeld {
		t.Errorf("a held request was pruned: %+v %v", h, err)
	}
	e.j.Close(ctx)
	if r := e.record("rec-done"); r.Hold.State != decision.HoldExpired {
		t.Errorf("record of the pruned hold: %+v", r.Hold)
	}
	e.verifyStore()
}
