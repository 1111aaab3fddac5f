package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/postgres"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

// pgCluster is the local PostgreSQL cluster the test may stop and start.
type pgCluster struct{ version string }

func (c pgCluster) ctl(t *testing.T, action string) {
	t.Helper()
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", c.version, "main", action).CombinedOutput()
	if err != nil && !(action == "start" && strings.Contains(string(out), "already running")) {
		t.Errorf("pg_ctlcluster %s: %v\n%s", action, err, out)
	}
}

// stoppablePostgres returns the test DSN and the cluster behind it,
// skipping unless stopping the server is allowed (in CI, or with
// EHIGATE_TEST_STOP_POSTGRES=1) and it answers.
func stoppablePostgres(t *testing.T) (string, pgCluster) {
	t.Helper()
	required := os.Getenv("EHIGATE_REQUIRE_SERVICES") == "1"
	if !required && os.Getenv("EHIGATE_TEST_STOP_POSTGRES") != "1" {
		t.Skip("stops the local PostgreSQL server: runs with EHIGATE_REQUIRE_SERVICES=1 or EHIGATE_TEST_STOP_POSTGRES=1")
	}
	fail := t.Skipf
	if required {
		fail = t.Fatalf
	}
	// No other test may use the server while this one stops it.
	storetest.LockPostgres(t, true)
	dsn := os.Getenv("EHIGATE_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		fail("PostgreSQL at %s does not answer: %v", dsn, err)
	}
	conn.Close(ctx)
	versions, _ := filepath.Glob("/etc/postgresql/*/main")
	if len(versions) == 0 {
		fail("no local cluster to stop (/etc/postgresql/*/main)")
	}
	sort.Strings(versions)
	return dsn, pgCluster{version: filepath.Base(filepath.Dir(versions[len(versions)-1]))}
}

// TestJournalPostgresOutage stops PostgreSQL under load: every response
// is still recorded (in the spool), /readyz shows the spool depth, and
// once the server is back the spool is replayed in order and the journal
// verifies.
func TestJournalPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway")
	}
	dsn, cluster := stoppablePostgres(t)
	// Whatever happens, the server is running again afterwards.
	t.Cleanup(func() { cluster.ctl(t, "start") })

	var b [6]byte
	rand.Read(b[:])
	schema := "ehigate_e2e_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	schemaDSN := dsn + sep + "search_path=" + schema

	bin := buildGateway(t)
	up := fhirUpstream(t)
	dir := t.TempDir()
	if _, err := journal.WriteNewKey(filepath.Join(dir, "signing.pem")); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cfg := writeConfig(t, dir, addr, up.URL, `store:
  postgres:
    dsn: "`+schemaDSN+`"
`)
	// The journal section written by writeConfig gets the key and spool.
	data, _ := os.ReadFile(cfg)
	data = []byte(strings.Replace(string(data), "journal:\n", "journal:\n  signing_key: signing.pem\n  spool_dir: spool\n  commit_timeout: 2s\n", 1))
	os.WriteFile(cfg, data, 0o600)
	logPath := filepath.Join(dir, "gateway.log")
	g := startGateway(t, bin, cfg, addr, logPath)

	lctx, cancel := context.WithCancel(ctx)
	var n atomic.Int64
	done := make(chan []answered)
	go func() { done <- load(lctx, addr, 4, &n) }()
	waitCount(t, &n, 200)

	cluster.ctl(t, "stop")
	stoppedAt := n.Load()
	waitCount(t, &n, stoppedAt+300)
	ready := g.readyz()
	if !strings.Contains(ready, "store: unreachable") || strings.Contains(ready, "spool_depth: 0\n") {
		t.Errorf("/readyz during the outage:\n%s", ready)
	}
	duringOutage := n.Load()
	cluster.ctl(t, "start")
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(g.readyz(), "store: ok\nspool_depth: 0\n"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("spool not replayed: %s", g.readyz())
		}
	}
	waitCount(t, &n, n.Load()+100)
	cancel()
	got := <-done
	g.stop()
	if !logHas(logPath, "spooling entries locally") || !logHas(logPath, "spool replayed") {
		t.Errorf("the log does not show spooling and replay")
	}

	st, err := postgres.Open(ctx, schemaDSN, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Every response has its record; each worker's records are in the
	// journal in the order the worker got its responses.
	decided := map[string]uint64{}
	err = st.Entries(ctx, "e2e", 0, 0, func(e decision.Entry) error {
		if e.Kind == decision.KindDecision {
			decided[e.RecordID] = e.Seq
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	isSpooled := map[string]bool{}
	for q := (store.Query{Limit: 10000, Ascending: true}); ; {
		recs, next, err := st.Records(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			isSpooled[r.ID] = r.HasFlag(decision.FlagSpooled)
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	lastSeq := map[int]uint64{}
	spooled := 0
	for _, a := range got {
		seq, ok := decided[a.id]
		if !ok {
			t.Fatalf("response %s (worker %d, #%d) has no decision entry", a.id, a.worker, a.n)
		}
		sp, ok := isSpooled[a.id]
		if !ok {
			t.Fatalf("response %s (worker %d, #%d) has no record", a.id, a.worker, a.n)
		}
		if seq <= lastSeq[a.worker] {
			t.Fatalf("worker %d: response #%d recorded at seq %d, before an earlier response (seq %d)", a.worker, a.n, seq, lastSeq[a.worker])
		}
		lastSeq[a.worker] = seq
		if sp {
			spooled++
		}
	}
	if spooled == 0 {
		t.Errorf("no record is flagged spooled after %d responses during the outage", duringOutage-stoppedAt)
	}
	out := runVerify(t, bin, cfg, "--checkpoints", logPath)
	t.Logf("%d responses (%d during the outage, %d records spooled); verify:\n%s", len(got), duringOutage-stoppedAt, spooled, out)
}
