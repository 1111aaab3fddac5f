package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// TestFlagQueriesUseTheirIndex: every indexed flag has its partial index,
// and a query for it reads the index rather than scanning the records.
func TestFlagQueriesUseTheirIndex(t *testing.T) {
	st := open(t).(*Store)
	ctx := context.Background()
	for _, f := range append(store.IndexedFlags, decision.FlagSpooled) {
		t.Run(string(f), func(t *testing.T) {
			for _, q := range []store.Query{{Flag: f}, {Flag: f, From: t0(), Ascending: true}} {
				sqlText, args, err := store.RecordsSQL(q, store.SQLite)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := st.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlText, args...)
				if err != nil {
					t.Fatal(err)
				}
				var plan []string
				for rows.Next() {
					var id, parent, unused int
					var detail string
					rows.Scan(&id, &parent, &unused, &detail)
					plan = append(plan, detail)
				}
				rows.Close()
				want := "records_flag_" + strings.ReplaceAll(string(f), "-", "_")
				if f == decision.FlagSpooled {
					want = "records_spooled"
				}
				if p := strings.Join(plan, "; "); !strings.Contains(p, want) {
					t.Errorf("plan %q does not use %s", p, want)
				}
			}
		})
	}
}

// planOf returns SQLite's query plan of query, its steps joined by "; ".
func planOf(t *testing.T, st *Store, query string, args ...any) string {
	t.Helper()
	rows, err := st.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

// TestRecordEntriesUsesItsIndex: a decision trace reads one record's
// entries through entries_record instead of scanning the journal.
func TestRecordEntriesUsesItsIndex(t *testing.T) {
	st := open(t).(*Store)
	if p := planOf(t, st, recordEntriesSQL, "01JREC"); !strings.Contains(p, "USING INDEX entries_record") {
		t.Errorf("plan %q does not use entries_record", p)
	}
}

func t0() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }
