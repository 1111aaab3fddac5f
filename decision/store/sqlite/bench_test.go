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
