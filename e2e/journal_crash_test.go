package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store/sqlite"

	_ "modernc.org/sqlite"
)

// TestJournalCrash kills the gateway with SIGKILL under concurrent load,
// restarts it, and checks that every response a client received has its
// decision record and that the journal verifies.
func TestJournalCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway")
	}
	bin := buildGateway(t)
	up := fhirUpstream(t)
	dir := t.TempDir()
	addr := freePort(t)
	cfg := writeConfig(t, dir, addr, up.URL, "store:\n  sqlite:\n    path: records.db\n")
	logPath := filepath.Join(dir, "gateway.log")

	g := startGateway(t, bin, cfg, addr, logPath)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	done := make(chan []answered)
	go func() { done <- load(ctx, addr, 16, &n) }()
	waitCount(t, &n, 400)
	g.kill()
	cancel()
	got := <-done
	if len(got) < 400 {
		t.Fatalf("only %d responses before the kill", len(got))
	}

	// Restart on the same store: the chain continues; a few more requests.
	g = startGateway(t, bin, cfg, addr, logPath)
	ctx2, cancel2 := context.WithCancel(context.Background())
	var n2 atomic.Int64
	done2 := make(chan []answered)
	go func() { done2 <- load(ctx2, addr, 4, &n2) }()
	waitCount(t, &n2, 20)
	cancel2()
	got = append(got, <-done2...)
	g.stop()

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		r, err := st.Record(context.Background(), a.id)
		if err != nil {
			t.Fatalf("response %s (worker %d, #%d) has no record: %v", a.id, a.worker, a.n, err)
		}
		if len(r.Entries) == 0 || r.Entries[0].Kind != decision.KindDecision || r.Action != decision.Allow {
			t.Fatalf("record %s: %+v", a.id, r)
		}
	}
	chains, err := st.Chains(context.Background())
	if err != nil || !slices.ContainsFunc(chains, func(c storeChain) bool { return c.Name == "e2e" }) {
		t.Fatalf("chains %+v, %v", chains, err)
	}
	out := runVerify(t, bin, cfg, "--checkpoints", logPath)
	t.Logf("%d responses, all recorded; verify:\n%s", len(got), out)

	// An auditor's copy of the public key verifies too.
	pub, err := exec.Command(bin, "keys", "public", "--config", cfg).Output()
	if err != nil || !strings.HasPrefix(string(pub), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("keys public: %v\n%s", err, pub)
	}
	pubFile := filepath.Join(dir, "auditor.pem")
	os.WriteFile(pubFile, pub, 0o600)
	runVerify(t, bin, cfg, "--public-key", pubFile)

	// One edited byte: verify says where, and exits 1.
	st.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	var seq int
	if err := db.QueryRow(`SELECT min(seq) FROM entries WHERE chain = 'e2e' AND seq > 100 AND kind = 'decision'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), '"allow"', '"deny"') AS BLOB) WHERE chain = 'e2e' AND seq = ?`, seq); err != nil {
		t.Fatal(err)
	}
	db.Close()
	bad, err := exec.Command(bin, "verify", "--config", cfg).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(bad), fmt.Sprintf("chain e2e: BROKEN: edited at seq %d", seq)) {
		t.Fatalf("verify of an edited journal: %v\n%s", err, bad)
	}
}
