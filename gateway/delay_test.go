package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/gateway/hold"
)

// testClock is a settable clock shared by a gateway and its holds.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var delayDocs = map[string]string{
	"patient_request_record":        "portal preference \"call me before releasing results\"",
	"agreed_timeframe_or_condition": "72 hours after the report is issued",
}

// holdGateway is one gateway process with holds, over a SQLite file that
// outlives it.
type holdGateway struct {
	srv  *httptest.Server
	st   *sqlite.Store
	j    *journal.Writer
	m    *hold.Manager
	base string
}

func startHoldGateway(t *testing.T, db string, upstream string, set *engine.Engine, clk *testClock) *holdGateway {
	t.Helper()
	g := &holdGateway{}
	var err error
	if g.st, err = sqlite.Open(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if g.j, err = journal.Open(context.Background(), g.st, journal.Options{Chain: uniqueID("gw")}); err != nil {
		t.Fatal(err)
	}
	g.srv = httptest.NewUnstartedServer(nil)
	g.base = "http://" + g.srv.Listener.Addr().String() + "/fhir"
	pub, _ := url.Parse(g.base)
	up, _ := url.Parse(upstream)
	tr := gateway.NewTransport(gateway.TransportOptions{})
	g.m = hold.New(hold.Options{Store: g.st, Journal: g.j, Clock: clk.now, Keep: 24 * time.Hour,
		Fetcher: gateway.NewHoldFetcher(pub, up, tr, 0)})
	h, err := gateway.New(gateway.Options{PublicBase: pub, Upstream: up, Transport: tr, Journal: g.j, Links: g.st,
		Decider: set, Identifier: headerIdentity{}, Holds: g.m, Clock: clk.now, TempDir: t.TempDir(),
		Limits: gateway.Limits{MaxHeaderBytes: 64 << 10, MaxRequestBody: 8 << 20, InspectBody: 1 << 20, MaxResource: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	g.srv.Config.Handler = h
	g.srv.Start()
	return g
}

// stop shuts the process down: server, journal, store.
func (g *holdGateway) stop(t *testing.T) {
	g.srv.Close()
	if err := g.j.Close(context.Background()); err != nil {
		t.Error(err)
	}
	g.st.Close()
}

// resultsEHR serves DiagnosticReports and DocumentReferences, counting
// requests and checking the requester's credentials are replayed.
func resultsEHR(calls *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		if r.Header.Get("Authorization") != "Bearer patient-token" {
			w.WriteHeader(401)
			io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]}`)
			return
		}
		id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		typ := "DiagnosticReport"
		if strings.Contains(r.URL.Path, "DocumentReference") {
			typ = "DocumentReference"
		}
		fmt.Fprintf(w, `{"resourceType":%q,"id":%q,"subject":{"reference":"Patient/p1"},"link":"http://%s/baseR4/Patient/p1"}`, typ, id, r.Host)
	})
}

func holdPolicies(t *testing.T) *engine.Engine {
	return engine.New(policySet(t,
		testPolicy("results-hold", "delay", "not-interference.patient-requested-delay", "resource_types: [DiagnosticReport]\n", "", "", "    delay:\n      form: hold\n      hold_for: 1h\n", delayDocs),
		testPolicy("notes-hold", "delay", "not-interference.patient-requested-delay", "resource_types: [DocumentReference]\n", "", "", "    delay:\n      form: hold\n      release: staff\n", delayDocs),
	), engine.Options{})
}

// poll sends a GET to a status URL as client.
func poll(t *testing.T, statusURL, client string) (int, http.Header, []byte) {
	t.Helper()
	return getAs(t, statusURL, client, "Authorization", "Bearer patient-token")
}

func TestHoldSurvivesRestart(t *testing.T) {
	var calls atomic.Int64
	up := httptest.NewServer(resultsEHR(&calls))
	defer up.Close()
	db := filepath.Join(t.TempDir(), "records.db")
	t0 := time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC)
	clk := &testClock{t: t0}
	e := holdPolicies(t)

	g1 := startHoldGateway(t, db, up.URL+"/baseR4", e, clk)
	st, h, body := getAs(t, g1.base+"/DiagnosticReport/r1", "portal", "Authorization", "Bearer patient-token")
	loc := h.Get("Content-Location")
	if st != 202 || !strings.HasPrefix(loc, g1.base+"/_hold/") || h.Get("Retry-After") != "3600" || calls.Load() != 0 {
		t.Fatalf("held: %d %v %s (upstream calls %d)", st, h, body, calls.Load())
	}
	validR4(t, body)
	if !strings.Contains(string(body), "held until 2026-07-02T16:00:00Z") || !strings.Contains(string(body), `"informational"`) {
		t.Fatalf("hold notice %s", body)
	}
	if st, h, _ := poll(t, loc, "portal"); st != 202 || h.Get("Content-Location") != loc {
		t.Fatalf("poll while held: %d", st)
	}
	if st, _, b := poll(t, loc, "someone-else"); st != 403 || !strings.Contains(string(b), "someone else") {
		t.Fatalf("another requester polls: %d %s", st, b)
	}
	if st, _, _ := poll(t, g1.base+"/_hold/01JZZZZZZZZZZZZZZZZZZZZZZZ", "portal"); st != 404 {
		t.Fatalf("unknown hold: %d", st)
	}
	g1.stop(t)

	// A new process on the same store: the hold is still there.
	clk.set(t0.Add(time.Hour))
	g2 := startHoldGateway(t, db, up.URL+"/baseR4", e, clk)
	loc2 := g2.base + loc[strings.Index(loc, "/_hold/"):]
	if n, err := g2.m.Step(context.Background()); err != nil || n != 1 || calls.Load() != 1 {
		t.Fatalf("release after restart: moved %d, %v, upstream calls %d", n, err, calls.Load())
	}
	st, h, body = poll(t, loc2, "portal")
	if st != 200 || !strings.Contains(string(body), `"id":"r1"`) || !strings.Contains(string(body), g2.base+"/Patient/p1") {
		t.Fatalf("collect: %d %s", st, body)
	}
	if st, _, _ := poll(t, loc2, "portal"); st != 410 {
		t.Fatalf("collected twice: %d", st)
	}
	g2.stop(t)

	st2, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	recs, _, err := st2.Records(context.Background(), store.Query{Ascending: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, r := range recs {
		summary = append(summary, fmt.Sprintf("%s/%s/%d", r.Interaction, r.Action, r.Status))
	}
	want := "[read/delay/202 hold-status/delay/202 hold-status/deny/403 hold-status/error/404 hold-status/allow/200 hold-status/error/410]"
	if fmt.Sprint(summary) != want {
		t.Fatalf("records %v\nwant %s", summary, want)
	}
	held := recs[0]
	if held.Hold == nil || held.Hold.State != decision.HoldFulfilled || held.Hold.ReleasedBy != hold.SystemActor ||
		held.Hold.ReleaseAt == nil || !held.Hold.ReleaseAt.Equal(t0.Add(time.Hour)) || held.Hold.CollectedAt == nil ||
		held.Exception == nil || held.Exception.Code != "not-interference.patient-requested-delay" || held.RetryAfter != 3600 {
		t.Fatalf("held record %+v hold %+v", held, held.Hold)
	}
	if recs[2].Reason != "not-hold-owner" || recs[4].Hold == nil || recs[4].Hold.ID != held.Hold.ID || recs[4].ResourceType != "DiagnosticReport" {
		t.Fatalf("poll records %+v %+v", recs[2], recs[4])
	}
	var states []string
	for _, en := range mustEntries(t, st2, held.ID) {
		if en.Kind == decision.KindTransition {
			var tr decision.Transition
			json.Unmarshal(en.Payload, &tr)
			states = append(states, tr.State+":"+tr.By)
		}
	}
	if fmt.Sprint(states) != "[held: released:ehigate fulfilled:]" {
		t.Fatalf("transitions %v", states)
	}
	verifyHolds(t, st2)
}

func mustEntries(t *testing.T, st store.Store, id string) []decision.Entry {
	t.Helper()
	es, err := st.RecordEntries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// verifyHolds runs verification with hold transitions replayed.
func verifyHolds(t *testing.T, st store.Store) {
	t.Helper()
	rep, err := verify.Run(context.Background(), st, verify.Options{Transition: hold.Apply})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records.Unchecked > 0 {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("verification: %s", b.String())
	}
}

func TestHoldStaffRelease(t *testing.T) {
	var calls atomic.Int64
	up := httptest.NewServer(resultsEHR(&calls))
	defer up.Close()
	db := filepath.Join(t.TempDir(), "records.db")
	clk := &testClock{t: time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC)}
	g := startHoldGateway(t, db, up.URL+"/baseR4", holdPolicies(t), clk)
	st, h, body := getAs(t, g.base+"/DocumentReference/n1", "portal", "Authorization", "Bearer patient-token")
	loc := h.Get("Content-Location")
	if st != 202 || !strings.Contains(string(body), "until staff release it") || h.Get("Retry-After") != "60" {
		t.Fatalf("held: %d %s", st, body)
	}
	clk.set(clk.now().Add(30 * 24 * time.Hour))
	if n, _ := g.m.Step(context.Background()); n != 0 {
		t.Fatal("a staff-only hold was released by time")
	}
	// Staff release it (as ehigate holds release does: a manager that
	// does not fetch, its own journal chain).
	cli, err := journal.Open(context.Background(), g.st, journal.Options{Chain: "cli@test"})
	if err != nil {
		t.Fatal(err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	staff := hold.New(hold.Options{Store: g.st, Journal: cli, Clock: clk.now})
	for {
		// The gateway's journal writes the parked request's completion
		// asynchronously; staff release only a settled record.
		_, err := staff.Release(context.Background(), id, "Dr. Amara Chen", "results discussed with the patient")
		if err == nil {
			break
		}
		if !errors.Is(err, hold.ErrUnsettled) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cli.Close(context.Background())
	if st, _, b := poll(t, loc, "portal"); st != 202 || !strings.Contains(string(b), "released") {
		t.Fatalf("released, not fetched yet: %d %s", st, b)
	}
	if n, err := g.m.Step(context.Background()); n != 1 || err != nil {
		t.Fatalf("fetch: %d %v", n, err)
	}
	if st, _, b := poll(t, loc, "portal"); st != 200 || !strings.Contains(string(b), `"id":"n1"`) {
		t.Fatalf("collect: %d %s", st, b)
	}
	g.stop(t)
	st2, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	recs, _, _ := st2.Records(context.Background(), store.Query{Ascending: true, Interaction: "read"})
	if len(recs) != 1 {
		t.Fatalf("%d read records", len(recs))
	}
	if hr := recs[0].Hold; hr.ReleasedBy != "Dr. Amara Chen" || hr.ReleaseReason != "results discussed with the patient" || hr.State != decision.HoldFulfilled || hr.ReleaseAt != nil {
		t.Fatalf("hold %+v", hr)
	}
	verifyHolds(t, st2)
}

func TestEmbargo(t *testing.T) {
	var calls atomic.Int64
	ehr := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":3,"entry":[
			{"resource":{"resourceType":"DiagnosticReport","id":"new","status":"final","code":{"text":"biopsy"},"issued":"2026-07-01T10:00:00Z","subject":{"reference":"Patient/p1"}},"search":{"mode":"match"}},
			{"resource":{"resourceType":"DiagnosticReport","id":"old","status":"final","code":{"text":"biopsy"},"issued":"2026-06-01T10:00:00Z","subject":{"reference":"Patient/p1"}},"search":{"mode":"match"}},
			{"resource":{"resourceType":"DiagnosticReport","id":"draft","status":"preliminary","code":{"text":"biopsy"},"subject":{"reference":"Patient/p1"}},"search":{"mode":"match"}}]}`)
	})
	e := engine.New(policySet(t, testPolicy("results-embargo", "delay", "not-interference.patient-requested-delay",
		"resource_types: [DiagnosticReport]\nresource_when: has(resource.issued)\n", "", "",
		"    delay:\n      form: embargo\n      release_after: 72h\n      from: issued\n", delayDocs)), engine.Options{})
	clk := &testClock{t: time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC)}
	hs := newHarness(t, ehr, func(o *gateway.Options) { o.Decider = e; o.Clock = clk.now })
	var raw []byte
	search := func() searchBundle {
		st, _, b := getAs(t, hs.base+"/DiagnosticReport?patient=p1", "portal")
		if st != 200 {
			t.Fatalf("search: %d %s", st, b)
		}
		raw = b
		return readBundle(t, b)
	}
	before := search()
	beforeRaw := raw
	clk.set(time.Date(2026, 7, 4, 10, 0, 1, 0, time.UTC))
	after := search()
	ids := func(sb searchBundle) []string {
		var out []string
		for _, e := range sb.Entry {
			out = append(out, e.Resource.ResourceType+"/"+e.Resource.ID)
		}
		return out
	}
	if got := fmt.Sprint(ids(before)); got != "[DiagnosticReport/old DiagnosticReport/draft OperationOutcome/]" {
		t.Fatalf("before the release time: %s", got)
	}
	if got := fmt.Sprint(ids(after)); got != "[DiagnosticReport/new DiagnosticReport/old DiagnosticReport/draft]" {
		t.Fatalf("after the release time: %s", got)
	}
	if !strings.Contains(string(beforeRaw), "until its release time, 2026-07-04T10:00:00Z") || before.Total == nil || *before.Total != 2 {
		t.Fatalf("disclosure in %s", beforeRaw)
	}
	validR4(t, beforeRaw)
	recs := hs.records()
	if len(recs) != 2 || recs[0].Action != decision.Delay || len(recs[0].Withheld) != 1 || len(recs[1].Withheld) != 0 {
		t.Fatalf("records %+v", recs)
	}
	w := recs[0].Withheld[0]
	if w.ID != "new" || w.Policy != "results-embargo" || w.ReleaseAt == nil || !w.ReleaseAt.Equal(time.Date(2026, 7, 4, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("withheld %+v", w)
	}
}
