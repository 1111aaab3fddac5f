// Command ehigate is an EHI access gateway: a FHIR reverse proxy that
// records every decision about access to electronic health information,
// and the tools compliance staff use on those records.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":      {"run the gateway: ehigate serve --config FILE", runServe},
		"demo":       {"run a demo EHR and the gateway in front of it, with no setup", runDemo},
		"records":    {"query decision records: ehigate records --config FILE [filters]", runRecords},
		"verify":     {"check the journal's hash chains, signed checkpoints and projection: ehigate verify --config FILE", runVerify},
		"keys":       {"checkpoint signing keys: ehigate keys public --config FILE | keys generate --out FILE", runKeys},
		"check":      {"validate a configuration and its policies: ehigate check --config FILE", runCheck},
		"exceptions": {"list the 45 CFR Part 171 exception catalog: ehigate exceptions [--code CODE]", runExceptions},
		"review":     {"list policies whose review is overdue or due: ehigate review --config FILE [--within 30d]", runReview},
		"notices":    {"list written responses due; mark one sent: ehigate notices --config FILE | notices sent ID --by NAME --channel C", runNotices},
		"holds":      {"list held requests; release one: ehigate holds list --config FILE | holds release ID --by NAME --reason TEXT", runHolds},
		"report":     {"reports over the records: ehigate report KIND --config FILE [--format table|json|html] (ehigate report lists the kinds)", runReport},
		"admin":      {"admin API credentials: ehigate admin hash-token [--generate] [--name NAME --role auditor|officer]", runAdmin},
		"version":    {"print the version", runVersion},
		// Compliance: the written policy and audit packages.
		"policies":       {"the written policy: ehigate policies render --config FILE --format html|md [--out FILE]", runPolicies},
		"export":         {"write an audit package: ehigate export --config FILE --from T [--to T] [--patient ID] [--requester SUB] [--policy ID] --out FILE.zip", runExport},
		"verify-package": {"check an audit package offline: ehigate verify-package FILE.zip [--public-key FILE]", runVerifyPackage},
	}
}

// errUsage marks an error already explained to the user.
var errUsage = errors.New("usage")

// exitError carries a specific exit status.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ehigate: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		return ee.code
	}
	fmt.Fprintf(stderr, "ehigate %s: %v\n", args[0], err)
	return 1
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: ehigate COMMAND [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, cmds[n].summary)
	}
}

// newFlags returns a flag set that reports errors through errUsage.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ehigate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	fmt.Fprintln(stdout, "ehigate", version)
	return nil
}
