package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/gateway/hold"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	from := fs.String("from", "", "verify from `TIME` (2006-01-02, RFC 3339, or a duration ago such as 24h); chains start at their last checkpoint before it")
	to := fs.String("to", "", "verify up to `TIME` (truncation is checked only without --to)")
	var keys, logs, chains listFlag
	fs.Var(&keys, "public-key", "trusted public key `file` (PEM); repeatable; default: the configured signing key")
	fs.Var(&logs, "checkpoints", "JSON log `file` holding checkpoint lines (a copy kept outside the store); repeatable")
	fs.Var(&chains, "chain", "verify only this chain; repeatable")
	chainsOnly := fs.Bool("chains-only", false, "check chains and checkpoints only, not the record projection (faster)")
	format := fs.String("format", "text", "output `format`: text or json")
	by := fs.String("by", "", "who is verifying (recorded with the access; default the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "ehigate verify: --config is required")
		return errUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintln(stderr, "ehigate verify: --format must be text or json")
		return errUsage
	}
	cfg, err := configs.Load(*file)
	if err != nil {
		return err
	}
	opts := verify.Options{Chains: chains, Retention: cfg.Journal.Retention, SkipRecords: *chainsOnly, Transition: applyTransition}
	now := time.Now()
	if opts.From, err = parseWhen(*from, now); err != nil {
		return err
	}
	if opts.To, err = parseWhen(*to, now); err != nil {
		return err
	}
	var pubs []ed25519.PublicKey
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			return err
		}
		pub, err := journal.ParsePublicKey(data)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		pubs = append(pubs, pub)
	}
	if len(pubs) == 0 {
		s, err := loadSigner(cfg, false)
		if err != nil {
			return fmt.Errorf("%w (or pass --public-key)", err)
		}
		pubs = append(pubs, s.Public())
	}
	opts.Keys = journal.NewKeyring(pubs...)
	for _, l := range logs {
		f, err := os.Open(l)
		if err != nil {
			return err
		}
		cps, err := verify.ParseLog(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
		opts.External = append(opts.External, cps...)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := verify.Run(ctx, st, opts)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			OK bool `json:"ok"`
			*verify.Report
		}{rep.OK(), rep})
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if aerr := recordAccess(ctx, st, cfg, *by, "verify "+strings.Join(args, " "), int(rep.Records.Checked)); aerr != nil {
		fmt.Fprintf(stderr, "ehigate verify: the verification itself could not be recorded: %v\n", aerr)
	}
	if !rep.OK() {
		return exitError{code: 1}
	}
	return nil
}

// applyTransition replays a transition entry on a record as the component
// that wrote it updated the projection (verify recomputes records from
// their entries): notice items and holds.
func applyTransition(rec *decision.Record, tr decision.Transition) error {
	if err := notices.Apply(rec, tr); err != nil {
		return err
	}
	return hold.Apply(rec, tr)
}
