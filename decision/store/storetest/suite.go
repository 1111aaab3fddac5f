package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
)

// Opener returns a new, empty store for one test.
type Opener func(t *testing.T) store.Store

// Run runs the suite against stores made by open.
func Run(t *testing.T, open Opener) {
	t.Run("AppendAndHead", func(t *testing.T) { testAppendAndHead(t, open(t)) })
	t.Run("ChainConflict", func(t *testing.T) { testChainConflict(t, open(t)) })
	t.Run("Query", func(t *testing.T) { testQuery(t, open(t)) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, open(t)) })
	t.Run("RecordTrace", func(t *testing.T) { testRecordTrace(t, open(t)) })
	t.Run("Links", func(t *testing.T) { testLinks(t, open(t)) })
	t.Run("Holds", func(t *testing.T) { testHolds(t, open(t)) })
	t.Run("Aggregate", func(t *testing.T) { testAggregate(t, open(t)) })
	t.Run("Durations", func(t *testing.T) { testDurations(t, open(t)) })
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Record returns a record for tests.
func Record(id string, at time.Time, a decision.Action, mutate ...func(*decision.Record)) *decision.Record {
	r := &decision.Record{
		ID: id, Schema: decision.SchemaV1, ReceivedAt: at, DecidedAt: at, Action: a,
		Interaction: "read", Method: "GET", Path: "/fhir/Patient/1", ResourceType: "Patient",
		Requester: decision.Requester{Subject: "sub-1", ClientID: "app-1", Issuer: "https://idp", Class: decision.ClassPatient},
	}
	for _, m := range mutate {
		m(r)
	}
	return r
}

// chained builds entries continuing a chain, as the journal would.
func chained(chain string, seq uint64, prev string, recs ...*decision.Record) []store.Item {
	var items []store.Item
	for _, r := range recs {
		seq++
		e := decision.Entry{Chain: chain, Seq: seq, Kind: decision.KindDecision, RecordID: r.ID, At: r.ReceivedAt,
			Payload: []byte(fmt.Sprintf(`{"id":%q}`, r.ID)), PrevHash: prev}
		e.Hash = journal.Hash(&e)
		prev = e.Hash
		items = append(items, store.Item{Entry: e, Record: r})
	}
	return items
}

func testAppendAndHead(t *testing.T, st store.Store) {
	ctx := context.Background()
	seq, hash, err := st.Head(ctx, "a")
	if err != nil || seq != 0 || hash != "" {
		t.Fatalf("empty head = %d %q %v", seq, hash, err)
	}
	items := chained("a", 0, journal.Genesis, Record("r1", t0, decision.Allow), Record("r2", t0.Add(time.Second), decision.Deny))
	if err := st.Append(ctx, items); err != nil {
		t.Fatal(err)
	}
	seq, hash, err = st.Head(ctx, "a")
	if err != nil || seq != 2 || hash != items[1].Entry.Hash {
		t.Fatalf("head = %d %q %v", seq, hash, err)
	}
	var got []decision.Entry
	if err := st.Entries(ctx, "a", 1, 0, func(e decision.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[1].Payload) != string(items[1].Entry.Payload) || !got[0].At.Equal(t0) ||
		got[1].PrevHash != got[0].Hash || journal.Hash(&got[1]) != got[1].Hash {
		t.Fatalf("entries read back differ: %+v", got)
	}
	chains, err := st.Chains(ctx)
	if err != nil || len(chains) != 1 || chains[0].Name != "a" || chains[0].Seq != 2 {
		t.Fatalf("chains = %+v %v", chains, err)
	}
}

func testChainConflict(t *testing.T, st store.Store) {
	ctx := context.Background()
	items := chained("a", 0, journal.Genesis, Record("r1", t0, decision.Allow))
	if err := st.Append(ctx, items); err != nil {
		t.Fatal(err)
	}
	again := chained("a", 0, journal.Genesis, Record("r2", t0, decision.Allow))
	if err := st.Append(ctx, again); !errors.Is(err, store.ErrChainConflict) {
		t.Fatalf("second writer of seq 1: err = %v, want ErrChainConflict", err)
	}
	// The failed batch left nothing behind.
	if _, err := st.Record(ctx, "r2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record of failed batch: %v", err)
	}
}

func testQuery(t *testing.T, st store.Store) {
	ctx := context.Background()
	recs := []*decision.Record{
		Record("q1", t0, decision.Allow, func(r *decision.Record) { r.Patients = []string{"p1"} }),
		Record("q2", t0.Add(1*time.Minute), decision.Deny, func(r *decision.Record) {
			r.Patients = []string{"p1", "p2"}
			r.Exception = &decision.ExceptionRef{Code: "privacy.individual-request"}
			r.Policies = []decision.PolicyRef{{ID: "no-share", Version: "1"}}
			r.Flags = []decision.Flag{decision.FlagReviewOverdue}
			r.Status = 403
		}),
		Record("q3", t0.Add(2*time.Minute), decision.Redact, func(r *decision.Record) {
			r.Requester = decision.Requester{Subject: "dr-x", ClientID: "ehr-app", Class: decision.ClassProvider}
			r.Interaction, r.ResourceType = "search-type", "Observation"
			r.Policies = []decision.PolicyRef{{ID: "no-share-2", Version: "1"}}
		}),
		Record("q4", t0.Add(3*time.Minute), decision.Error, func(r *decision.Record) { r.Reason = "malformed-path"; r.Status = 400 }),
	}
	if err := st.Append(ctx, chained("q", 0, journal.Genesis, recs...)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"all newest first", store.Query{}, []string{"q4", "q3", "q2", "q1"}},
		{"ascending", store.Query{Ascending: true}, []string{"q1", "q2", "q3", "q4"}},
		{"time window", store.Query{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []string{"q3", "q2"}},
		{"patient", store.Query{Patient: "p1"}, []string{"q2", "q1"}},
		{"patient and window", store.Query{Patient: "p1", From: t0.Add(time.Second)}, []string{"q2"}},
		{"action", store.Query{Action: []decision.Action{decision.Deny, decision.Redact}}, []string{"q3", "q2"}},
		{"subject", store.Query{Subject: "dr-x"}, []string{"q3"}},
		{"client", store.Query{ClientID: "app-1"}, []string{"q4", "q2", "q1"}},
		{"class", store.Query{Class: decision.ClassProvider}, []string{"q3"}},
		{"interaction", store.Query{Interaction: "search-type"}, []string{"q3"}},
		{"type", store.Query{ResourceType: "Observation"}, []string{"q3"}},
		{"exception", store.Query{Exception: "privacy.individual-request"}, []string{"q2"}},
		{"policy exact, not prefix", store.Query{Policy: "no-share"}, []string{"q2"}},
		{"flag", store.Query{Flag: decision.FlagReviewOverdue}, []string{"q2"}},
		{"status", store.Query{Status: 400}, []string{"q4"}},
		{"no match", store.Query{Patient: "nobody"}, nil},
		{"like metacharacters", store.Query{Policy: "%"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := st.Records(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if next != "" {
				t.Errorf("unexpected next cursor")
			}
			if ids := idsOf(got); fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
	// Completion updates the projection in place.
	done := *recs[0]
	done.Complete(decision.Completion{ID: "q1", FulfilledAt: t0.Add(time.Hour), Status: 200, BytesOut: 99, Patients: []string{"p3"}})
	e := decision.Entry{Chain: "q", Seq: 5, Kind: decision.KindCompletion, RecordID: "q1", At: t0.Add(time.Hour), Payload: []byte(`{}`)}
	_, prev, _ := st.Head(ctx, "q")
	e.PrevHash = prev
	e.Hash = journal.Hash(&e)
	if err := st.Append(ctx, []store.Item{{Entry: e, Record: &done}}); err != nil {
		t.Fatal(err)
	}
	r, err := st.Record(ctx, "q1")
	if err != nil || r.Status != 200 || r.BytesOut != 99 || r.FulfilledAt == nil || len(r.Entries) != 2 {
		t.Fatalf("completed record = %+v, %v", r, err)
	}
	if got, _, _ := st.Records(ctx, store.Query{Patient: "p3"}); fmt.Sprint(idsOf(got)) != "[q1]" {
		t.Fatalf("patient found in the response is not indexed: %v", idsOf(got))
	}
}

func testPagination(t *testing.T, st store.Store) {
	ctx := context.Background()
	var recs []*decision.Record
	for i := range 25 {
		// Pairs share a timestamp so that the id breaks ties.
		recs = append(recs, Record(fmt.Sprintf("p%02d", i), t0.Add(time.Duration(i/2)*time.Second), decision.Allow))
	}
	if err := st.Append(ctx, chained("p", 0, journal.Genesis, recs...)); err != nil {
		t.Fatal(err)
	}
	for _, asc := range []bool{false, true} {
		q := store.Query{Limit: 7, Ascending: asc}
		var all []string
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			got, next, err := st.Records(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, idsOf(got)...)
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if len(all) != 25 {
			t.Fatalf("asc=%v: paged through %d records, want 25: %v", asc, len(all), all)
		}
		seen := map[string]bool{}
		for _, id := range all {
			if seen[id] {
				t.Fatalf("asc=%v: %s returned twice", asc, id)
			}
			seen[id] = true
		}
	}
	if _, _, err := st.Records(ctx, store.Query{Cursor: "!!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func testRecordTrace(t *testing.T, st store.Store) {
	ctx := context.Background()
	if _, err := st.Record(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing record: %v", err)
	}
	items := chained("t", 0, journal.Genesis, Record("t1", t0, decision.Allow))
	if err := st.Append(ctx, items); err != nil {
		t.Fatal(err)
	}
	es, err := st.RecordEntries(ctx, "t1")
	if err != nil || len(es) != 1 || es[0].Hash != items[0].Entry.Hash {
		t.Fatalf("record entries = %+v %v", es, err)
	}
}

func testLinks(t *testing.T, st store.Store) {
	ctx := context.Background()
	if _, err := st.Link(ctx, "bulkstatus/1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown link: %v", err)
	}
	l := store.Link{Path: "bulkstatus/1", Kind: "bulk-status", RecordID: "r", Owner: "o", Expires: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)}
	if err := st.PutLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	got, err := st.Link(ctx, "bulkstatus/1")
	if err != nil || got != l {
		t.Fatalf("link = %+v %v, want %+v", got, err, l)
	}
	l.Path, l.Expires = "bulkstatus/old", time.Now().Add(-time.Minute)
	if err := st.PutLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Link(ctx, "bulkstatus/old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired link: %v", err)
	}
}

func idsOf(rs []decision.Record) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}
