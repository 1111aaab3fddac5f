package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
)

// denyPolicy is a valid policy denying one resource type.
func denyPolicy(version, typ string) string {
	return fmt.Sprintf(`policies:
  - id: no-%[2]s
    version: %[1]q
    description: %[2]s cannot be segmented yet.
    action: deny
    exception: infeasibility.segmentation
    match: {resource_types: [%[2]s]}
    documentation:
      rationale: mixed scans
      decided_by: {name: Luis Ortega, role: HIM director}
      decided_at: 2026-08-15
      ehi_scope: every %[2]s
      minimum_necessary: only this type
      review_by: 2027-02-15
      evidence: [LM-4]
      conditions:
        withheld_category: psychotherapy notes
        withheld_basis: not EHI
        segmentation_limitation: images
    notice: {message: Not available., next_step: Reasons follow in writing., contact: records office}
`, version, typ)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestPolicyHotReload edits the policy file while requests flow: an
// invalid edit is rejected and the set in force keeps deciding; a valid
// one takes effect atomically (every request is decided wholly under one
// set, the one its record names) and is journalled.
func TestPolicyHotReload(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`)
	}))
	defer up.Close()
	dir := t.TempDir()
	pdir := filepath.Join(dir, "policies")
	os.Mkdir(pdir, 0o700)
	pfile := filepath.Join(pdir, "deny.yaml")
	os.WriteFile(pfile, []byte(denyPolicy("1", "DocumentReference")), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/fhir"
	cfgText := fmt.Sprintf("listen: %q\npublic_base_url: %q\nupstream:\n  url: %q\nstore:\n  sqlite:\n    path: records.db\njournal:\n  chain: test\npolicies: [%q]\n",
		ln.Addr().String(), base, up.URL+"/fhir", pdir)
	cfgFile := filepath.Join(dir, "ehigate.yaml")
	os.WriteFile(cfgFile, []byte(cfgText), 0o600)
	cfg, err := configs.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	a, err := openApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h1 := a.engine.Set().Hash()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()

	var running atomic.Bool
	running.Store(true)
	var wg sync.WaitGroup
	var requests atomic.Int64
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			typ := []string{"DocumentReference", "Observation"}[i%2]
			for running.Load() {
				resp, err := c.Get(base + "/" + typ + "/x1")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				requests.Add(1)
			}
		}()
	}
	waitFor(t, "requests", func() bool { return requests.Load() > 50 })

	// An invalid edit: the rationale is gone. Rejected, old set in force.
	os.WriteFile(pfile, []byte(strings.Replace(denyPolicy("2", "Observation"), "      rationale: mixed scans\n", "", 1)), 0o600)
	waitFor(t, "the invalid set to be rejected", func() bool {
		return strings.Contains(logs.String(), "policy reload rejected") && strings.Contains(logs.String(), "documentation.rationale")
	})
	if got := a.engine.Set().Hash(); got != h1 {
		t.Fatal("an invalid policy set replaced the one in force")
	}
	// A valid edit: Observation is denied now, DocumentReference no longer.
	os.WriteFile(pfile, []byte(denyPolicy("2", "Observation")), 0o600)
	waitFor(t, "the valid set to take effect", func() bool { return a.engine.Set().Hash() != h1 })
	h2 := a.engine.Set().Hash()
	before := requests.Load()
	waitFor(t, "requests under the new set", func() bool { return requests.Load() > before+50 })
	running.Store(false)
	wg.Wait()
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[string]int{}
	q := store.Query{Limit: 10000}
	for {
		recs, next, err := st.Records(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			denied := r.Action == decision.Deny
			switch {
			case r.PolicySet == h1:
				if denied != (r.ResourceType == "DocumentReference") {
					t.Fatalf("record %s decided %s for %s under the first set", r.ID, r.Action, r.ResourceType)
				}
			case r.PolicySet == h2:
				if denied != (r.ResourceType == "Observation") {
					t.Fatalf("record %s decided %s for %s under the second set", r.ID, r.Action, r.ResourceType)
				}
			default:
				t.Fatalf("record %s names policy set %q, neither the old nor the new", r.ID, r.PolicySet)
			}
			seen[r.PolicySet]++
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if seen[h1] == 0 || seen[h2] == 0 {
		t.Fatalf("records per set: %v", seen)
	}
	if es, err := st.RecordEntries(context.Background(), policy.RecordID(h2)); err != nil || len(es) != 1 {
		t.Fatalf("the new set was not journalled: %d entries, %v", len(es), err)
	}
}
