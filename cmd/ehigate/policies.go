package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision/policy/render"
)

// runPolicies renders the written policy: "policies render --config FILE
// --format html|md [--out FILE]".
func runPolicies(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "render" {
		fmt.Fprintln(stderr, "usage: ehigate policies render --config FILE --format html|md [--out FILE] [--as-of DATE]")
		return errUsage
	}
	fs := newFlags("policies render", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	format := fs.String("format", "html", "output `format`: html or md")
	out := fs.String("out", "", "write to this `file` instead of standard output")
	asOf := fs.String("as-of", "", "assess reviews as of this `date` (default today)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "ehigate policies render: --config is required")
		return errUsage
	}
	if *format != "html" && *format != "md" {
		fmt.Fprintln(stderr, "ehigate policies render: --format must be html or md")
		return errUsage
	}
	when := time.Now().UTC()
	if *asOf != "" {
		t, err := parseWhen(*asOf, when)
		if err != nil {
			return err
		}
		when = t
	}
	cfg, err := configs.Load(*file)
	if err != nil {
		return err
	}
	set, err := loadPolicies(cfg.Policies, cfg.PolicyReview.MaxInterval)
	if err != nil {
		return err
	}
	hist, err := policyHistory(ctx, cfg)
	if err != nil {
		return err
	}
	in := render.Input{
		Scope:    fmt.Sprintf("The policies configured in %s.", filepath.Base(cfg.File)),
		Policies: render.Items(set), History: hist, Catalog: set.Catalog(), AsOf: when,
		PolicySet: set.Hash(), RelativeTo: filepath.Dir(cfg.File),
	}
	var buf bytes.Buffer
	if *format == "md" {
		err = render.Markdown(&buf, in)
	} else {
		err = render.HTML(&buf, in)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(*out, buf.Bytes())
}

// policyHistory reads the policy history from the store, when there is
// one (rendering never creates a store); nil when there is none.
func policyHistory(ctx context.Context, cfg *configs.Config) (*render.History, error) {
	if !cfg.Store.UsesPostgres() {
		if _, err := os.Stat(cfg.Store.SQLite.Path); err != nil {
			return nil, nil
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("policy history: %w", err)
	}
	defer st.Close()
	return render.LoadHistory(ctx, st)
}

// writeFileAtomic writes data to path through a temporary file beside it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
