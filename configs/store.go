package configs

import "strings"

// Store selects and configures the record store: exactly one of SQLite
// (the default) and Postgres.
type Store struct {
	// SQLite is the embedded store (the default).
	SQLite SQLite `yaml:"sqlite"`
	// Postgres is the scale-out store; setting its DSN selects it.
	Postgres Postgres `yaml:"postgres"`
}

// SQLite configures the embedded store.
type SQLite struct {
	// Path is the database file; it is created with mode 0600.
	Path string `yaml:"path"`
}

// Postgres configures the PostgreSQL store.
type Postgres struct {
	// DSN is a PostgreSQL URL or keyword/value connection string.
	DSN string `yaml:"dsn"`
	// MaxConns bounds the connection pool (0: the driver's default).
	MaxConns int `yaml:"max_conns"`
}

// UsesPostgres reports whether the PostgreSQL store is selected.
func (s Store) UsesPostgres() bool { return s.Postgres.DSN != "" }

func looksLikeDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") || strings.Contains(s, "=")
}
