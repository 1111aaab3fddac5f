package configs

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
)

// Journal tunes the decision journal.
type Journal struct {
	// Chain names this writer's hash chain (default: the host name).
	Chain string `yaml:"chain"`
	// MaxBatch is the most entries one group commit writes.
	MaxBatch int `yaml:"max_batch"`
	// SigningKey is the file of the Ed25519 key that signs checkpoints (PEM
	// PKCS#8, or a base64 32-byte seed). Unset with SQLite: generated at
	// first start next to the database. Required with PostgreSQL.
	SigningKey string `yaml:"signing_key"`
	// CheckpointEvery is how many entries may follow a checkpoint.
	CheckpointEvery int `yaml:"checkpoint_every"`
	// CheckpointInterval is the longest time entries wait for one.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// SpoolDir is where entries wait while the store is unreachable.
	SpoolDir string `yaml:"spool_dir"`
	// CommitTimeout bounds one write to the store before the batch is
	// spooled instead.
	CommitTimeout time.Duration `yaml:"commit_timeout"`
	// Retention is how long entries are kept (0: forever).
	Retention time.Duration `yaml:"retention"`
}

// DefaultRetention is six years, the HIPAA documentation retention period.
const DefaultRetention = 6 * 365 * 24 * time.Hour

func defaultJournal() Journal {
	return Journal{
		MaxBatch:           512,
		CheckpointEvery:    10000,
		CheckpointInterval: time.Minute,
		CommitTimeout:      10 * time.Second,
		Retention:          DefaultRetention,
	}
}

// SigningKeyPath returns the signing key file and whether it may be
// generated there when missing (SQLite deployments without a configured
// key); "" when it cannot be kept (an in-memory database).
func (c *Config) SigningKeyPath() (path string, generate bool) {
	if c.Journal.SigningKey != "" {
		return c.Journal.SigningKey, false
	}
	if c.Store.UsesPostgres() || c.Store.SQLite.Path == "" || c.Store.SQLite.Path == ":memory:" {
		return "", true
	}
	return c.Store.SQLite.Path + ".signing-key.pem", true
}

// SpoolPath returns the spool folder of chain: journal.spool_dir (by
// default next to the SQLite database, or in the temporary folder with
// PostgreSQL) and a folder per chain in it.
func (c *Config) SpoolPath(chain string) string {
	dir := c.Journal.SpoolDir
	if dir == "" {
		if c.Store.UsesPostgres() || c.Store.SQLite.Path == ":memory:" {
			dir = filepath.Join(os.TempDir(), "ehigate-spool")
		} else {
			dir = c.Store.SQLite.Path + ".spool"
		}
	}
	return filepath.Join(dir, safeName(chain))
}

// safeName keeps a chain name usable as one folder name.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	return s
}

// validateJournalStore checks the store and journal sections; it also
// drops the default SQLite path when PostgreSQL is configured.
func (c *Config) validateJournalStore() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	if c.Store.UsesPostgres() {
		if c.Doc.Has("store.sqlite") {
			add("store", "configure exactly one of store.sqlite and store.postgres")
		}
		c.Store.SQLite.Path = ""
		if !looksLikeDSN(c.Store.Postgres.DSN) {
			add("store.postgres.dsn", "want a postgres:// URL or a keyword/value connection string")
		}
		if c.Journal.SigningKey == "" {
			add("journal.signing_key", "is required with store.postgres: every replica must sign with a provisioned key (e.g. a mounted Kubernetes Secret)")
		}
	} else if c.Store.SQLite.Path == "" {
		add("store.sqlite.path", "is required")
	}
	if c.Store.Postgres.MaxConns < 0 {
		add("store.postgres.max_conns", "must not be negative")
	}
	if c.Journal.MaxBatch < 1 {
		add("journal.max_batch", "must be at least 1")
	}
	if c.Journal.CheckpointEvery < 1 {
		add("journal.checkpoint_every", "must be at least 1")
	}
	if c.Journal.CheckpointInterval <= 0 {
		add("journal.checkpoint_interval", "must be positive")
	}
	if c.Journal.CommitTimeout <= 0 {
		add("journal.commit_timeout", "must be positive")
	}
	if c.Journal.Retention < 0 {
		add("journal.retention", "must not be negative (0 keeps entries forever)")
	} else if c.Journal.Retention > 0 && c.Journal.Retention < 24*time.Hour {
		add("journal.retention", "must be at least a day (0 keeps entries forever)")
	}
	if c.Journal.SigningKey != "" {
		if _, err := os.Stat(c.Journal.SigningKey); err != nil {
			add("journal.signing_key", "cannot read %s: %v", c.Journal.SigningKey, unwrapPath(err))
		}
	}
	return ps
}
