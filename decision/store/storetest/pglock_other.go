//go:build !unix

package storetest

import "testing"

// LockPostgres serialises tests sharing the test PostgreSQL server with
// the test that stops it; without flock it does nothing.
func LockPostgres(t testing.TB, exclusive bool) {}
