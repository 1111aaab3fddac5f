// Package storetest is the test suite every store.Store must pass; the
// SQLite and PostgreSQL stores run the same suite.
package storetest
