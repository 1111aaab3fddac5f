package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
)

// TestGracefulShutdown sends SIGTERM while slow responses are streaming:
// the gateway stops accepting, lets every in-flight request finish, records
// each one completely, seals its chain and exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway")
	}
	bin := buildGateway(t)
	started := make(chan struct{}, 64)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","entry":[`)
		w.(http.Flusher).Flush()
		started <- struct{}{}
		// A slow answer: still streaming when the gateway is told to stop.
		for i := range 10 {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"resource":{"resourceType":"Observation","id":"o%d","subject":{"reference":"Patient/p1"}}}`, i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Fprint(w, `]}`)
	}))
	defer up.Close()
	dir := t.TempDir()
	addr := freePort(t)
	cfg := writeConfig(t, dir, addr, up.URL, "store:\n  sqlite:\n    path: records.db\n")
	logPath := filepath.Join(dir, "gateway.log")
	g := startGateway(t, bin, cfg, addr, logPath)

	const inflight = 8
	type result struct {
		id     string
		status int
		body   string
		err    error
	}
	results := make(chan result, inflight)
	var wg sync.WaitGroup
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := c.Get("http://" + addr + "/fhir/Observation?patient=p1")
			if err != nil {
				results <- result{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- result{id: resp.Header.Get("X-Ehigate-Decision"), status: resp.StatusCode, body: string(b), err: err}
		}()
	}
	for range inflight {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("requests did not reach the upstream")
		}
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	// New connections are refused once shutdown has begun.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := http.Get("http://" + addr + "/healthz"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway kept accepting connections after SIGTERM")
		}
	}
	wg.Wait()
	close(results)
	if err := g.cmd.Wait(); err != nil {
		t.Fatalf("gateway exit: %v", err)
	}
	var ids []string
	for r := range results {
		if r.err != nil || r.status != 200 || !strings.HasSuffix(r.body, "]}") {
			t.Fatalf("an in-flight request did not complete: status %d, err %v, body %q", r.status, r.err, r.body)
		}
		ids = append(ids, r.id)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range ids {
		rec, err := st.Record(context.Background(), id)
		if err != nil {
			t.Fatalf("record %s: %v", id, err)
		}
		if rec.FulfilledAt == nil || rec.Status != 200 || rec.ResourcesReturned["Observation"] != 10 {
			t.Fatalf("record %s incomplete: status %d, fulfilled %v, returned %v", id, rec.Status, rec.FulfilledAt, rec.ResourcesReturned)
		}
	}
	// The chain is sealed: its last checkpoint is at its head.
	chains, err := st.Chains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		var last store.Checkpoint
		st.Checkpoints(context.Background(), c.Name, 0, func(cp store.Checkpoint) error { last = cp; return nil })
		if c.Name == "e2e" && (!last.Sealed || last.Seq != c.Seq) {
			t.Fatalf("chain %s not sealed at its head %d: last checkpoint %+v", c.Name, c.Seq, last)
		}
	}
	runVerify(t, bin, cfg)
}
