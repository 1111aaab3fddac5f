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
