package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/gateway/hold"
)

// runHolds lists held requests, or, as "holds release ID --by NAME
// --reason TEXT", releases one on behalf of staff.
func runHolds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: ehigate holds list --config FILE | holds release ID --config FILE --by NAME --reason TEXT")
		return errUsage
	}
	switch args[0] {
	case "list":
		return runHoldsList(ctx, args[1:], stdout, stderr)
	case "release":
		return runHoldsRelease(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "ehigate holds: unknown subcommand %q (want list or release)\n", args[0])
	return errUsage
}

func runHoldsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("holds list", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	states := fs.String("state", "held,released,ready", "states, comma separated (held, released, ready, fulfilled, expired), or all")
	format := fs.String("format", "table", "output `format`: table or jsonl")
	limit := fs.Int("limit", 1000, "holds listed at most")
	by := fs.String("by", "", "who is reading (recorded with the access; default the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" || (*format != "table" && *format != "jsonl") {
		fmt.Fprintln(stderr, "usage: ehigate holds list --config FILE [--state held,released,ready|all] [--format table|jsonl]")
		return errUsage
	}
	q := store.HoldQuery{Limit: *limit}
	if *states != "all" {
		for _, s := range strings.Split(*states, ",") {
			st := store.HoldState(strings.TrimSpace(s))
			if !st.Valid() {
				fmt.Fprintf(stderr, "ehigate holds list: unknown state %q\n", s)
				return errUsage
			}
			q.States = append(q.States, st)
		}
	}
	cfg, st, err := openConfigStore(ctx, *file)
	if err != nil {
		return err
	}
	defer st.Close()
	hs, err := st.Holds(ctx, q)
	if err != nil {
		return err
	}
	if *format == "jsonl" {
		enc := json.NewEncoder(stdout)
		for i := range hs {
			hs[i].Request.Header = nil // credentials stay in the store
			if err := enc.Encode(&hs[i]); err != nil {
				return err
			}
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOLD\tSTATE\tPOLICY\tDECISION\tHELD AT\tRELEASE\tRELEASED BY\tREASON")
		for _, h := range hs {
			release := "staff"
			if !h.ReleaseAt.IsZero() {
				release = h.ReleaseAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.State, h.Policy, h.RecordID, h.CreatedAt.Format(time.RFC3339),
				release, dash(h.ReleasedBy), dash(h.ReleaseReason))
		}
		tw.Flush()
	}
	return recordAccess(ctx, st, cfg, *by, "holds list "+strings.Join(args, " "), len(hs))
}

func runHoldsRelease(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("holds release", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	by := fs.String("by", "", "who releases the held request (required)")
	reason := fs.String("reason", "", "why it is released (required)")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if id == "" || *file == "" || strings.TrimSpace(*by) == "" || strings.TrimSpace(*reason) == "" {
		fmt.Fprintln(stderr, "usage: ehigate holds release HOLD-ID --config FILE --by NAME --reason TEXT")
		return errUsage
	}
	cfg, st, err := openConfigStore(ctx, *file)
	if err != nil {
		return err
	}
	defer st.Close()
	w, err := openCLIJournal(ctx, st, cfg)
	if err != nil {
		return err
	}
	m := hold.New(hold.Options{Store: st, Journal: w})
	var h store.Hold
	for attempt := 0; ; attempt++ {
		// A request held a moment ago may still have its record being
		// completed by the gateway.
		h, err = m.Release(ctx, id, *by, *reason)
		if !errors.Is(err, hold.ErrUnsettled) || attempt == 10 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := errors.Join(err, w.Close(ctx)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: released by %s at %s (%s); the gateway fetches the answer within %s and keeps it for the requester for %s\n",
		h.ID, *by, h.ReleasedAt.Format(time.RFC3339), *reason, cfg.Holds.ReleaseInterval, cfg.Holds.Keep)
	return nil
}
