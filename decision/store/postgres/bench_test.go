package postgres

import (
	"context"
	"testing"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

func benchStore(b *testing.B) *Store {
	dsn, _ := freshSchema(b, true)
	st, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkGroupCommitPostgres: go test -run x -bench GroupCommit ./decision/store/postgres
func BenchmarkGroupCommitPostgres(b *testing.B) {
	storetest.BenchGroupCommit(b, func(b *testing.B) store.Store { return benchStore(b) })
}

// BenchmarkVerify: go test -run x -bench Verify ./decision/store/postgres
func BenchmarkVerify(b *testing.B) { storetest.BenchVerify(b, benchStore(b), 20000) }

// BenchmarkQueries1M populates 1,000,000 records (EHIGATE_BENCH_RECORDS
// to change) and measures the admin API's queries and the report
// aggregates over them; only -bench runs it:
//
//	go test -run x -bench Queries1M/query -benchtime 200x -timeout 2h ./decision/store/postgres
//	go test -run x -bench Queries1M/aggregate -benchtime 3x -timeout 2h ./decision/store/postgres
func BenchmarkQueries1M(b *testing.B) {
	st := benchStore(b)
	storetest.BenchQueries(b, st)
	// Statistics for the planner, as autovacuum would gather them.
	if _, err := st.pool.Exec(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Run("aggregate", func(b *testing.B) { storetest.BenchAggregates(b, st) })
}
