//go:build unix

package storetest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// LockPostgres serialises the tests that use the shared test PostgreSQL
// server with the test that stops it (they run in different test
// processes): users take the lock shared, the stopper exclusive. It is
// held until the test ends.
func LockPostgres(t testing.TB, exclusive bool) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "ehigate-test-postgres.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}
