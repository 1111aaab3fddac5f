package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/spool"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/postgres"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/telemetry"
)

// openStore opens the configured record store.
func openStore(ctx context.Context, cfg *configs.Config) (store.Store, error) {
	if cfg.Store.UsesPostgres() {
		return postgres.Open(ctx, cfg.Store.Postgres.DSN, postgres.Options{MaxConns: int32(cfg.Store.Postgres.MaxConns)})
	}
	return sqlite.Open(ctx, cfg.Store.SQLite.Path)
}

// openConfigStore loads the configuration file and opens its record
// store, for the commands that read or change records.
func openConfigStore(ctx context.Context, file string) (*configs.Config, store.Store, error) {
	cfg, err := configs.Load(file)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// openCLIJournal opens the command line's own chain ("cli@" and the
// gateway's chain name), signed with the gateway's key like the gateway's
// chain, so that verify covers what the command line writes too (Close
// seals the chain with a checkpoint).
func openCLIJournal(ctx context.Context, st store.Store, cfg *configs.Config) (*journal.Writer, error) {
	signer, err := loadSigner(cfg, true)
	if err != nil {
		return nil, err
	}
	return journal.Open(ctx, st, journal.Options{Chain: "cli@" + chainName(cfg), Signer: signer})
}

// openJournal starts the gateway's journal writer: signed checkpoints,
// and a spool for when the store cannot be reached (replayed first).
func openJournal(ctx context.Context, cfg *configs.Config, st store.Store, log *slog.Logger, m *telemetry.Metrics) (*journal.Writer, *journal.Signer, error) {
	signer, err := loadSigner(cfg, true)
	if err != nil {
		return nil, nil, err
	}
	chain := chainName(cfg)
	sp, rec, err := spool.Open(cfg.SpoolPath(chain))
	if err != nil {
		return nil, nil, err
	}
	if rec.DroppedBytes > 0 {
		log.Warn("journal spool: dropped a record cut short by a crash (it was never acknowledged)", "bytes", rec.DroppedBytes)
	}
	log.Info("journal", "chain", chain, "signing_key_id", signer.KeyID(), "spool_depth", rec.Entries)
	w, err := journal.Open(ctx, st, journal.Options{
		Chain: chain, MaxBatch: cfg.Journal.MaxBatch, Logger: log,
		Signer: signer, CheckpointEvery: cfg.Journal.CheckpointEvery, CheckpointInterval: cfg.Journal.CheckpointInterval,
		Spool: sp, CommitTimeout: cfg.Journal.CommitTimeout,
		Observe: observeCommit(m),
	})
	if err != nil {
		sp.Close()
		return nil, nil, err
	}
	return w, signer, nil
}

// observeCommit reports each group commit's duration and size to m.
func observeCommit(m *telemetry.Metrics) func(int, time.Duration, error) {
	if m == nil {
		return nil
	}
	return func(batch int, took time.Duration, _ error) {
		ctx := context.Background()
		m.JournalCommitDuration.Record(ctx, took.Seconds())
		m.JournalBatchSize.Record(ctx, int64(batch))
	}
}

// retain prunes entries older than journal.retention, now and hourly,
// until ctx ends. Only ranges ending at a checkpoint this key signed are
// pruned; that checkpoint stays for verification.
func (a *app) retain(ctx context.Context, keys journal.Keyring) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		pruned, err := journal.Prune(ctx, a.store, time.Now().Add(-a.cfg.Journal.Retention), keys)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("journal retention", "err", err)
		}
		for _, p := range pruned {
			a.log.Info("journal retention pruned", "chain", p.Chain, "through_seq", p.Through, "checkpoint_at", p.At)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func chainName(cfg *configs.Config) string {
	if cfg.Journal.Chain != "" {
		return cfg.Journal.Chain
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "ehigate"
}
