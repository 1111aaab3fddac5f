package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/export"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/fhir/audit"
)

// runExport writes an audit package: "export --config FILE --from T [--to
// T] [--patient ID] [--requester SUB] [--policy ID] --out FILE.zip". The
// export is recorded as an access before the package is put in place.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	from := fs.String("from", "", "records received at or after `TIME` (2006-01-02, RFC 3339, or a duration ago such as 30d)")
	to := fs.String("to", "", "records received before `TIME` (default now)")
	var filter export.Filter
	fs.StringVar(&filter.Patient, "patient", "", "only the records of this patient `id`")
	fs.StringVar(&filter.Requester, "requester", "", "only the records of this requester (token `sub`)")
	fs.StringVar(&filter.Policy, "policy", "", "only the records this policy `id` touched")
	out := fs.String("out", "", "package `file` to write (.zip)")
	var older listFlag
	fs.Var(&older, "public-key", "an older checkpoint key `file` (PEM) to ship in the package, for checkpoints made before a key rotation; repeatable")
	by := fs.String("by", "", "who is exporting (recorded with the access; default the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" || *from == "" || *out == "" {
		fmt.Fprintln(stderr, "ehigate export: --config, --from and --out are required")
		return errUsage
	}
	now := time.Now()
	var opts export.Options
	var err error
	if opts.From, err = parseWhen(*from, now); err != nil {
		return err
	}
	if opts.To, err = parseWhen(*to, now); err != nil {
		return err
	}
	for _, k := range older {
		pub, err := readPublicKey(k)
		if err != nil {
			return err
		}
		opts.PublicKeys = append(opts.PublicKeys, pub)
	}
	cfg, err := configs.Load(*file)
	if err != nil {
		return err
	}
	if opts.Key, err = signingKey(cfg); err != nil {
		return err
	}
	cat, err := exceptions.Load()
	if err != nil {
		return err
	}
	opts.Filter, opts.Catalog, opts.Transition = filter, cat, applyTransition
	opts.CreatedBy = "ehigate " + version
	opts.TempDir = filepath.Dir(*out)
	opts.Events = audit.NewBuilder(audit.Options{Server: cfg.PublicBaseURL, CFR: func(code string) string {
		if e, err := cat.Lookup(code); err == nil {
			return e.CFR
		}
		return ""
	}})
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	man, err := export.Export(ctx, st, tmp, opts)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// The package leaves only once the export is journaled.
	if err := recordAccess(ctx, st, cfg, *by, "export "+strings.Join(args, " "), man.Records); err != nil {
		return fmt.Errorf("the export could not be recorded, so the package was not kept: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d records, %d AuditEvents, %d journal entries in %d segment(s), %d policy version(s); signed with key %s\n",
		*out, man.Records, man.AuditEvents, man.Entries, len(man.Segments), man.Policies, man.KeyID)
	return nil
}

// signingKey returns the journal's signing key, which signs the package.
func signingKey(cfg *configs.Config) (ed25519.PrivateKey, error) {
	path, _ := cfg.SigningKeyPath()
	if path == "" {
		return nil, errors.New("no signing key: set journal.signing_key (an in-memory store has none to sign a package with)")
	}
	return journal.LoadPrivateKey(path)
}

func readPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := journal.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// runVerifyPackage checks an audit package offline: "verify-package
// FILE.zip [--public-key FILE]". Exit status 1 names every problem.
func runVerifyPackage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify-package", stderr)
	var keys listFlag
	fs.Var(&keys, "public-key", "the organisation's published journal key `file` (PEM); repeatable; without it the package's own key is used")
	format := fs.String("format", "text", "output `format`: text or json")
	pkg := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pkg, args = args[0], args[1:]
		if err := parseFlags(fs, args); err != nil {
			return err
		}
	} else {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: ehigate verify-package FILE.zip [--public-key FILE] [--format text|json]")
			return errUsage
		}
		pkg = fs.Arg(0)
	}
	if pkg == "" {
		fmt.Fprintln(stderr, "usage: ehigate verify-package FILE.zip [--public-key FILE] [--format text|json]")
		return errUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintln(stderr, "ehigate verify-package: --format must be text or json")
		return errUsage
	}
	var opts export.VerifyOptions
	for _, k := range keys {
		pub, err := readPublicKey(k)
		if err != nil {
			return err
		}
		opts.Keys = append(opts.Keys, pub)
	}
	opts.Transition = applyTransition
	f, err := os.Open(pkg)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	res, err := export.Verify(ctx, f, fi.Size(), opts)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			OK bool `json:"ok"`
			*export.Result
		}{res.OK(), res})
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !res.OK() {
		return exitError{code: 1}
	}
	return nil
}
