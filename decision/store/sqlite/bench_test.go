package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

func benchStore(b *testing.B) *Store {
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkGroupCommitSQLite: go test -run x -bench GroupCommit ./decision/store/sqlite
func BenchmarkGroupCommitSQLite(b *testing.B) {
	storetest.BenchGroupCommit(b, func(b *testing.B) store.Store { return benchStore(b) })
}

// BenchmarkVerify: go test -run x -bench Verify ./decision/store/sqlite
func BenchmarkVerify(b *testing.B) { storetest.BenchVerify(b, benchStore(b), 20000) }

// BenchmarkQueries1M populates 1,000,000 records (EHIGATE_BENCH_RECORDS
// to change) and measures the admin API's queries and the report
// aggregates over them; only -bench runs it:
//
//	go test -run x -bench Queries1M/query -benchtime 200x -timeout 2h ./decision/store/sqlite
//	go test -run x -bench Queries1M/aggregate -benchtime 3x -timeout 2h ./decision/store/sqlite
func BenchmarkQueries1M(b *testing.B) {
	st := benchStore(b)
	storetest.BenchQueries(b, st)
	b.Run("aggregate", func(b *testing.B) { storetest.BenchAggregates(b, st) })
}
