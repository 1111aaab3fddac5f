package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// reportKind is one report of `ehigate report KIND`.
type reportKind struct {
	summary string
	// run writes the report of the records in q's time window and
	// returns how many records it read.
	run func(ctx context.Context, st store.Store, q store.Query, format string, stdout io.Writer) (int, error)
}

// reportKinds is the table of reports; add a kind here.
func reportKinds() map[string]reportKind {
	return map[string]reportKind{
		"undocumented": {"restrictions no policy or upstream_refusals entry documents (refusals the EHR made on its own), grouped", reportUndocumented},
	}
}

// runReport runs one kind of report over the records.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	kinds := reportKinds()
	usage := func() error {
		names := make([]string, 0, len(kinds))
		for n := range kinds {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(stderr, "usage: ehigate report KIND --config FILE [--from T] [--to T] [--format table|json]")
		fmt.Fprintln(stderr, "kinds:")
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-14s %s\n", n, kinds[n].summary)
		}
		return errUsage
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usage()
	}
	kind, ok := kinds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ehigate report: unknown kind %q\n", args[0])
		return usage()
	}
	fs := newFlags("report "+args[0], stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	from := fs.String("from", "", "records received at or after `TIME` (2006-01-02, RFC 3339, or a duration ago such as 30d)")
	to := fs.String("to", "", "records received before `TIME`")
	format := fs.String("format", "table", "output `format`: table or json")
	by := fs.String("by", "", "who is reading (recorded with the access; default the OS user)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *file == "" || (*format != "table" && *format != "json") {
		return usage()
	}
	var q store.Query
	var err error
	now := time.Now()
	if q.From, err = parseWhen(*from, now); err != nil {
		return err
	}
	if q.To, err = parseWhen(*to, now); err != nil {
		return err
	}
	cfg, err := configs.Load(*file)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := kind.run(ctx, st, q, *format, stdout)
	if err != nil {
		return err
	}
	return recordAccess(ctx, st, cfg, *by, "report "+strings.Join(args, " "), n)
}

// undocumentedGroup is one line of the undocumented report: records alike
// in what was refused, to whom and how.
type undocumentedGroup struct {
	UpstreamStatus int       `json:"upstream_status,omitempty"`
	Interaction    string    `json:"interaction"`
	ResourceType   string    `json:"resource_type,omitempty"`
	ClientID       string    `json:"client_id,omitempty"`
	Class          string    `json:"class,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Count          int       `json:"count"`
	First          time.Time `json:"first"`
	Last           time.Time `json:"last"`
	// Example is the id of the latest record of the group.
	Example string `json:"example"`
}

// reportUndocumented groups the records flagged undocumented.
func reportUndocumented(ctx context.Context, st store.Store, q store.Query, format string, stdout io.Writer) (int, error) {
	q.Flag, q.Limit, q.Ascending = decision.FlagUndocumented, 1000, true
	groups := map[string]*undocumentedGroup{}
	n := 0
	for {
		recs, next, err := st.Records(ctx, q)
		if err != nil {
			return n, err
		}
		for i := range recs {
			r := &recs[i]
			g := undocumentedGroup{UpstreamStatus: r.UpstreamStatus, Interaction: r.Interaction, ResourceType: r.ResourceType,
				ClientID: r.Requester.ClientID, Class: string(r.Requester.Class), Reason: r.Reason}
			key := strings.Join([]string{strconv.Itoa(g.UpstreamStatus), g.Interaction, g.ResourceType, g.ClientID, g.Class, g.Reason}, "\x00")
			gp := groups[key]
			if gp == nil {
				g.First = r.ReceivedAt
				gp = &g
				groups[key] = gp
			}
			gp.Count++
			gp.Last, gp.Example = r.ReceivedAt, r.ID
		}
		n += len(recs)
		if next == "" {
			break
		}
		q.Cursor = next
	}
	out := make([]*undocumentedGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Last.After(out[j].Last)
	})
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return n, enc.Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(stdout, "no undocumented restriction in the records")
		return n, nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tUPSTREAM\tINTERACTION\tTYPE\tCLIENT\tCLASS\tREASON\tFIRST\tLAST\tEXAMPLE")
	for _, g := range out {
		status := "-"
		if g.UpstreamStatus != 0 {
			status = strconv.Itoa(g.UpstreamStatus)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Count, status, g.Interaction, dash(g.ResourceType),
			dash(g.ClientID), dash(g.Class), dash(g.Reason), g.First.Format(time.RFC3339), g.Last.Format(time.RFC3339), g.Example)
	}
	return n, tw.Flush()
}
