package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

// testDSN returns the test server's DSN, skipping (or, with
// EHIGATE_REQUIRE_SERVICES=1, failing) when it does not answer.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("EHIGATE_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	storetest.LockPostgres(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("EHIGATE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("PostgreSQL at %s does not answer: %v", dsn, err)
		}
		t.Skipf("PostgreSQL at %s does not answer (set EHIGATE_TEST_POSTGRES): %v", dsn, err)
	}
	conn.Close(ctx)
	return dsn
}

// freshSchema creates a schema for one test (dropped at cleanup) and
// returns the DSN whose search_path selects it. Unless durable is set,
// commits do not wait for the server's WAL flush (tests of logic, not of
// durability, run several times faster).
func freshSchema(t testing.TB, durable bool) (dsn, schema string) {
	t.Helper()
	base := testDSN(t)
	var b [6]byte
	rand.Read(b[:])
	schema = "ehigate_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn = base + sep + "search_path=" + schema
	if !durable {
		dsn += "&synchronous_commit=off"
	}
	return dsn, schema
}

func open(t *testing.T) *Store {
	t.Helper()
	dsn, _ := freshSchema(t, false)
	st, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

type tamperer struct{ s *Store }

// Exec runs a statement written with "?" placeholders.
func (tm tamperer) Exec(ctx context.Context, q string, args ...any) error {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	_, err := tm.s.pool.Exec(ctx, b.String(), args...)
	return err
}

func TestTamper(t *testing.T) {
	storetest.RunTamper(t, func(t *testing.T) (store.Store, storetest.Tamperer) {
		st := open(t)
		return st, tamperer{st}
	})
}

func TestMigrationsAndPartitions(t *testing.T) {
	dsn, schema := freshSchema(t, false)
	ctx := context.Background()
	// Two replicas starting at once migrate once.
	errs := make(chan error, 2)
	stores := make(chan *Store, 2)
	for range 2 {
		go func() {
			st, err := Open(ctx, dsn, Options{})
			errs <- err
			stores <- st
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		st := <-stores
		defer st.Close()
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version, rows int
	if err := conn.QueryRow(ctx, `SELECT max(version), count(*) FROM schema_migrations`).Scan(&version, &rows); err != nil {
		t.Fatal(err)
	}
	if version != SchemaVersion() || rows != SchemaVersion() {
		t.Fatalf("schema_migrations: version %d in %d rows, want %d", version, rows, SchemaVersion())
	}
	var parts []string
	r, err := conn.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	if parts, err = pgx.CollectRows(r, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	m := monthOf(time.Now())
	for _, want := range []string{"entries" + m.suffix(), "records" + m.next().suffix(), "record_patients" + m.next().next().suffix()} {
		found := false
		for _, p := range parts {
			found = found || p == want
		}
		if !found {
			t.Errorf("partition %s was not created ahead (have %v)", want, parts)
		}
	}
}
