package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
)

func TestJournalAndStoreSections(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "public_base_url: http://127.0.0.1:8080/fhir\nupstream: {url: http://127.0.0.1:9/fhir}\n"
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, c *Config)
	}{
		{name: "defaults: sqlite, generated key and spool next to it", yaml: base, check: func(t *testing.T, c *Config) {
			if c.Store.UsesPostgres() || c.Journal.Retention != DefaultRetention || c.Journal.CheckpointEvery != 10000 {
				t.Errorf("defaults: %+v %+v", c.Store, c.Journal)
			}
			if p, gen := c.SigningKeyPath(); !gen || p != filepath.Join(dir, "ehigate.db.signing-key.pem") {
				t.Errorf("signing key %s %v", p, gen)
			}
			if p := c.SpoolPath("pod/1"); p != filepath.Join(dir, "ehigate.db.spool", "pod_1") {
				t.Errorf("spool %s", p)
			}
		}},
		{name: "postgres with a key", yaml: base + "store: {postgres: {dsn: 'postgres://db/ehi'}}\njournal: {signing_key: key.pem, retention: 7y, spool_dir: sp}\n",
			wantErr: []string{"journal.retention"}},
		{name: "postgres", yaml: base + "store: {postgres: {dsn: 'postgres://db/ehi'}}\njournal: {signing_key: key.pem, retention: 2555d, spool_dir: sp, checkpoint_every: 100, checkpoint_interval: 30s}\n",
			check: func(t *testing.T, c *Config) {
				if !c.Store.UsesPostgres() || c.Store.SQLite.Path != "" || c.Journal.SigningKey != key || c.Journal.Retention != 2555*24*time.Hour {
					t.Errorf("config: %+v %+v", c.Store, c.Journal)
				}
				if p := c.SpoolPath("a"); p != filepath.Join(dir, "sp", "a") {
					t.Errorf("spool %s", p)
				}
			}},
		{name: "postgres needs a provisioned key", yaml: base + "store: {postgres: {dsn: 'postgres://db/ehi'}}\n", wantErr: []string{"journal.signing_key: is required with store.postgres"}},
		{name: "both stores", yaml: base + "store: {sqlite: {path: a.db}, postgres: {dsn: 'host=db'}}\njournal: {signing_key: key.pem}\n", wantErr: []string{"store: configure exactly one"}},
		{name: "bad values", yaml: base + "store: {postgres: {dsn: 'db'}}\njournal: {signing_key: missing.pem, checkpoint_every: 0, commit_timeout: 0s, retention: 1h}\n",
			wantErr: []string{"store.postgres.dsn", "journal.signing_key: cannot read", "journal.checkpoint_every", "journal.commit_timeout", "journal.retention"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(filepath.Join(dir, "ehigate.yaml"), []byte(tc.yaml))
			if len(tc.wantErr) > 0 {
				if !errors.Is(err, yamlx.ErrInvalid) {
					t.Fatalf("err = %v, want problems", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
