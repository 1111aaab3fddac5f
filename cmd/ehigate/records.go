package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

func runRecords(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("records", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	from := fs.String("from", "", "records received at or after `TIME` (2006-01-02, RFC 3339, or a duration ago such as 24h)")
	to := fs.String("to", "", "records received before `TIME`")
	var q store.Query
	fs.StringVar(&q.Patient, "patient", "", "patient `id`")
	fs.StringVar(&q.Subject, "requester", "", "requester subject (token sub)")
	fs.StringVar(&q.ClientID, "client", "", "OAuth client id")
	class := fs.String("class", "", "requester class")
	actions := fs.String("action", "", "actions, comma separated (allow, redact, throttle, delay, deny, error)")
	fs.StringVar(&q.Interaction, "interaction", "", "FHIR interaction (read, search-type, ...)")
	fs.StringVar(&q.ResourceType, "type", "", "resource type")
	fs.StringVar(&q.Exception, "exception", "", "exception code")
	fs.StringVar(&q.Policy, "policy", "", "policy id")
	fs.IntVar(&q.Status, "status", 0, "HTTP status sent")
	flag := fs.String("flag", "", "record flag (e.g. review-overdue)")
	fs.IntVar(&q.Limit, "limit", 100, "records per page")
	all := fs.Bool("all", false, "print every page, not just the first")
	fs.BoolVar(&q.Ascending, "asc", false, "oldest first")
	format := fs.String("format", "jsonl", "output `format`: jsonl or table")
	by := fs.String("by", "", "who is reading (recorded with the access; default the OS user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "ehigate records: --config is required")
		return errUsage
	}
	if *format != "jsonl" && *format != "table" {
		fmt.Fprintf(stderr, "ehigate records: --format must be jsonl or table\n")
		return errUsage
	}
	var err error
	now := time.Now()
	if q.From, err = parseWhen(*from, now); err != nil {
		return err
	}
	if q.To, err = parseWhen(*to, now); err != nil {
		return err
	}
	q.Class, q.Flag = decision.Class(*class), decision.Flag(*flag)
	if *actions != "" {
		for _, s := range strings.Split(*actions, ",") {
			var a decision.Action
			if err := a.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
				return err
			}
			q.Action = append(q.Action, a)
		}
	}
	cfg, st, err := openConfigStore(ctx, *file)
	if err != nil {
		return err
	}
	defer st.Close()

	out := newRecordPrinter(stdout, *format)
	count := 0
	for {
		recs, next, err := st.Records(ctx, q)
		if err != nil {
			return err
		}
		for i := range recs {
			out.print(&recs[i])
		}
		count += len(recs)
		if next == "" || !*all {
			if next != "" {
				fmt.Fprintf(stderr, "more records: add --all, or --asc/--from to page\n")
			}
			break
		}
		q.Cursor = next
	}
	out.flush()
	return recordAccess(ctx, st, cfg, *by, "records "+strings.Join(args, " "), count)
}

// recordAccess journals a look at the records by the command line.
func recordAccess(ctx context.Context, st store.Store, cfg *configs.Config, by, what string, count int) error {
	if by == "" {
		by = os.Getenv("USER")
		if by == "" {
			by = "unknown"
		}
	}
	w, err := openCLIJournal(ctx, st, cfg)
	if err != nil {
		return err
	}
	id := newID()
	_, aerr := w.Append(ctx, decision.KindAccess, id, decision.Access{
		ID: id, At: time.Now().UTC(), Actor: "cli:" + by, What: what, Count: count,
	}, nil)
	return errors.Join(aerr, w.Close(ctx))
}

// parseWhen reads an absolute time, or a duration meaning that long ago.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := yamlx.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := yamlx.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a date, an RFC 3339 time or a duration ago (24h, 7d), got %q", s)
	}
	return t, nil
}

type recordPrinter struct {
	format string
	enc    *json.Encoder
	tw     *tabwriter.Writer
	header bool
}

func newRecordPrinter(w io.Writer, format string) *recordPrinter {
	p := &recordPrinter{format: format}
	if format == "table" {
		p.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	} else {
		p.enc = json.NewEncoder(w)
		p.enc.SetEscapeHTML(false)
	}
	return p
}

func (p *recordPrinter) print(r *decision.Record) {
	if p.enc != nil {
		p.enc.Encode(r)
		return
	}
	if !p.header {
		fmt.Fprintln(p.tw, "RECEIVED\tID\tACTION\tINTERACTION\tTYPE\tSTATUS\tREQUESTER\tPATIENTS\tEXCEPTION\tREASON")
		p.header = true
	}
	who := r.Requester.Subject
	if who == "" {
		who = r.Requester.ClientID
	}
	exc := ""
	if r.Exception != nil {
		exc = r.Exception.Code
	}
	fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.ReceivedAt.Format(time.RFC3339), r.ID, r.Action,
		r.Interaction, dash(r.ResourceType), r.Status, dash(who), dash(strings.Join(r.Patients, ",")), dash(exc), dash(r.Reason))
}

func (p *recordPrinter) flush() {
	if p.tw != nil {
		p.tw.Flush()
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
