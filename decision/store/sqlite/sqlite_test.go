package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

func open(t *testing.T) store.Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSuite(t *testing.T) { storetest.Run(t, open) }

func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "records.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Write something so the WAL exists.
	if err := st.PutLink(context.Background(), store.Link{Path: "x", Kind: "bulk-status"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s has mode %v; records must not be readable by others", filepath.Base(p), m)
		}
	}
}

func TestReopenKeepsSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	for range 2 {
		st, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
}

type tamperer struct{ s *Store }

func (t tamperer) Exec(ctx context.Context, q string, args ...any) error {
	_, err := t.s.w.ExecContext(ctx, q, args...)
	return err
}

func TestTamper(t *testing.T) {
	storetest.RunTamper(t, func(t *testing.T) (store.Store, storetest.Tamperer) {
		st := open(t).(*Store)
		return st, tamperer{st}
	})
}
