package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/gateway/admin"
)

// runNotices lists the written responses due and overdue, or, as
// "notices sent ID --by NAME --channel CHANNEL", marks one sent.
func runNotices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "sent" {
		return runNoticeSent(ctx, args[1:], stdout, stderr)
	}
	fs := newFlags("notices", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	within := fs.String("within", "3d", "list items due within this `duration` besides overdue ones")
	all := fs.Bool("all", false, "list every open item, however far its deadline")
	by := fs.String("by", "", "who is reading (recorded with the access; default the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "ehigate notices: --config is required")
		return errUsage
	}
	horizon, err := yamlx.ParseDuration(*within)
	if err != nil {
		fmt.Fprintf(stderr, "ehigate notices: --within: %v\n", err)
		return errUsage
	}
	cfg, st, err := openConfigStore(ctx, *file)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	type item struct {
		rec    decision.Record
		status notices.Status
	}
	var items []item
	q := store.Query{Flag: decision.FlagNoticeRequired, Ascending: true, Limit: 1000}
	for {
		recs, next, err := st.Records(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Notice == nil {
				continue
			}
			s := notices.StatusOf(r.Notice, now, horizon)
			if s == notices.Due || s == notices.Overdue || (*all && s == notices.Pending) {
				items = append(items, item{r, s})
			}
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	slices.SortFunc(items, func(a, b item) int { return a.rec.Notice.DueAt.Compare(b.rec.Notice.DueAt) })
	if len(items) == 0 {
		fmt.Fprintf(stdout, "no written response is overdue or due within %s\n", *within)
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DUE\tSTATUS\tDECISION\tRECEIVED\tEXCEPTION\tREQUESTER\tDUTY")
		for _, it := range items {
			n := it.rec.Notice
			who := it.rec.Requester.Subject
			if who == "" {
				who = it.rec.Requester.ClientID
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.DueAt.Format(time.RFC3339), it.status, it.rec.ID,
				it.rec.ReceivedAt.Format(time.RFC3339), n.Exception, dash(who), n.Duty)
		}
		tw.Flush()
	}
	return recordAccess(ctx, st, cfg, *by, "notices "+strings.Join(args, " "), len(items))
}

func runNoticeSent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notices sent", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	by := fs.String("by", "", "who sent the written response (required)")
	channel := fs.String("channel", "", "how it was sent: "+strings.Join(notices.Channels, ", "))
	at := fs.String("at", "", "when it was sent (2006-01-02 or RFC 3339; default now)")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if id == "" || *file == "" || *by == "" || *channel == "" {
		fmt.Fprintln(stderr, "usage: ehigate notices sent DECISION-ID --config FILE --by NAME --channel "+strings.Join(notices.Channels, "|"))
		return errUsage
	}
	when := time.Now()
	if *at != "" {
		var err error
		if when, err = yamlx.ParseTime(*at); err != nil {
			fmt.Fprintf(stderr, "ehigate notices sent: --at: %v\n", err)
			return errUsage
		}
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
	_, tr, merr := admin.MarkNoticeSent(ctx, st, w, id, when, *by, *channel)
	if err := errors.Join(merr, w.Close(ctx)); err != nil {
		return err
	}
	late := ""
	if tr.Reason != "" {
		late = " (" + tr.Reason + ")"
	}
	fmt.Fprintf(stdout, "%s: written response marked sent by %s via %s at %s%s\n", id, *by, *channel, when.UTC().Format(time.RFC3339), late)
	return nil
}
