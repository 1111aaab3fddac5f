package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// testHolds covers the hold methods: a hold round-trips with its bodies,
// lists by state and due time without them, and updates only from the
// version it was read at (one of several concurrent updaters wins).
func testHolds(t *testing.T, st store.Store) {
	ctx := context.Background()
	if _, err := st.Hold(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hold: %v", err)
	}
	body := bytes.Repeat([]byte(`{"resourceType":"Parameters"}`), 1000)
	h := store.Hold{
		ID: "h1", RecordID: "r1", Owner: "owner-1", Policy: "results-hold", State: store.HoldHeld,
		CreatedAt: t0, ReleaseAt: t0.Add(time.Hour), DueAt: t0.Add(time.Hour),
		Request: store.HeldRequest{Method: "POST", Path: "Observation/_search", Query: "a=1",
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer x"}}, Body: body},
	}
	if err := st.PutHold(ctx, &h); err != nil {
		t.Fatal(err)
	}
	if h.Version != 1 {
		t.Fatalf("version after put = %d", h.Version)
	}
	if err := st.PutHold(ctx, &store.Hold{ID: "h1", RecordID: "x", State: store.HoldHeld, CreatedAt: t0}); err == nil {
		t.Fatal("a second hold with the same id was stored")
	}
	staff := store.Hold{ID: "h2", RecordID: "r2", Policy: "p", State: store.HoldHeld, CreatedAt: t0.Add(time.Minute),
		Request: store.HeldRequest{Method: "GET", Path: "Patient/1"}}
	if err := st.PutHold(ctx, &staff); err != nil {
		t.Fatal(err)
	}
	got, err := st.Hold(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Request.Body, body) || got.Request.Header.Get("Authorization") != "Bearer x" || !got.ReleaseAt.Equal(h.ReleaseAt) ||
		got.Version != 1 || got.Partial || got.Response != nil || got.Owner != "owner-1" {
		t.Fatalf("hold read back differs: %+v", got)
	}
	tests := []struct {
		name string
		q    store.HoldQuery
		want string
	}{
		{"all, oldest first", store.HoldQuery{}, "[h1 h2]"},
		{"by state", store.HoldQuery{States: []store.HoldState{store.HoldHeld}}, "[h1 h2]"},
		{"other state", store.HoldQuery{States: []store.HoldState{store.HoldReady, store.HoldReleased}}, "[]"},
		{"not due yet", store.HoldQuery{DueBy: t0.Add(30 * time.Minute)}, "[]"},
		{"due; staff-only holds never are", store.HoldQuery{DueBy: t0.Add(2 * time.Hour)}, "[h1]"},
		{"limit", store.HoldQuery{Limit: 1}, "[h1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs, err := st.Holds(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, h := range hs {
				if !h.Partial || h.Request.Body != nil {
					t.Fatalf("a listed hold carries its body")
				}
				ids = append(ids, h.ID)
			}
			if got := fmt.Sprint(ids); got != tc.want && !(tc.want == "[]" && ids == nil) {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
	listed, _ := st.Holds(ctx, store.HoldQuery{Limit: 1})
	if err := st.UpdateHold(ctx, &listed[0]); err == nil {
		t.Fatal("a listed hold (without bodies) was written back")
	}

	// Several replicas release the same hold at once: one wins.
	var wins, conflicts int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine, err := st.Hold(ctx, "h1")
			if err != nil {
				t.Error(err)
				return
			}
			if mine.Version != 1 {
				return // read after another replica won
			}
			mine.State, mine.ReleasedBy, mine.DueAt = store.HoldReleased, fmt.Sprint("replica-", i), t0.Add(time.Hour)
			err = st.UpdateHold(ctx, &mine)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrHoldConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d replicas released the hold (%d conflicts), want exactly one", wins, conflicts)
	}
	got, _ = st.Hold(ctx, "h1")
	if got.State != store.HoldReleased || got.Version != 2 || !bytes.Equal(got.Request.Body, body) {
		t.Fatalf("after release: %+v", got)
	}
	// The answer is kept with the hold; the request body can be dropped.
	got.State, got.DueAt = store.HoldReady, t0.Add(48*time.Hour)
	got.Request.Body, got.Request.Header = nil, nil
	got.Response = &store.HeldResponse{Status: 200, Header: http.Header{"Content-Type": {"application/fhir+json"}}, Body: []byte(`{"resourceType":"Bundle"}`), FetchedAt: t0.Add(time.Hour)}
	if err := st.UpdateHold(ctx, &got); err != nil || got.Version != 3 {
		t.Fatalf("update: %v (version %d)", err, got.Version)
	}
	ready, err := st.Hold(ctx, "h1")
	if err != nil || ready.Response == nil || string(ready.Response.Body) != `{"resourceType":"Bundle"}` || ready.Request.Body != nil ||
		ready.Response.Header.Get("Content-Type") != "application/fhir+json" || ready.State != store.HoldReady {
		t.Fatalf("ready hold: %+v %v", ready, err)
	}
	stale := ready
	stale.Version = 1
	if err := st.UpdateHold(ctx, &stale); !errors.Is(err, store.ErrHoldConflict) {
		t.Fatalf("stale update: %v", err)
	}
	ghost := store.Hold{ID: "ghost", State: store.HoldHeld, Version: 1}
	if err := st.UpdateHold(ctx, &ghost); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of an unknown hold: %v", err)
	}
	testPruneHolds(t, st)
}

// testPruneHolds: only finished holds created before the cut are deleted.
func testPruneHolds(t *testing.T, st store.Store) {
	ctx := context.Background()
	for i, h := range []struct {
		state store.HoldState
		age   time.Duration
	}{{store.HoldFulfilled, 48 * time.Hour}, {store.HoldExpired, 48 * time.Hour}, {store.HoldHeld, 48 * time.Hour},
		{store.HoldReady, 48 * time.Hour}, {store.HoldFulfilled, time.Hour}} {
		hold := store.Hold{ID: fmt.Sprint("p", i), RecordID: fmt.Sprint("pr", i), State: h.state, CreatedAt: t0.Add(-h.age),
			Request: store.HeldRequest{Method: "GET", Path: "Patient/1"}}
		if err := st.PutHold(ctx, &hold); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.PruneHolds(ctx, t0.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d holds (%v), want 2", n, err)
	}
	for id, kept := range map[string]bool{"p0": false, "p1": false, "p2": true, "p3": true, "p4": true} {
		if _, err := st.Hold(ctx, id); (err == nil) != kept {
			t.Errorf("hold %s: kept %v, want %v (%v)", id, err == nil, kept, err)
		}
	}
}
