package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision/report"
	"github.com/ehigate/ehigate/decision/store"
)

// runReport runs one kind of report (decision/report) over the records:
// "report KIND --config FILE [--from T] [--to T] [--format table|json|html]".
// KIND "all" runs every kind (html and json only).
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := func() error {
		fmt.Fprintln(stderr, "usage: ehigate report KIND --config FILE [--from T] [--to T] [--format table|json|html] [--patient ID] [--requester SUB] [--policy ID]")
		fmt.Fprintln(stderr, "kinds:")
		for _, k := range report.Kinds {
			fmt.Fprintf(stderr, "  %-14s %s\n", k, report.Summaries[k])
		}
		fmt.Fprintf(stderr, "  %-14s %s\n", "all", "every kind, as one HTML page (--format html) or a JSON list")
		return errUsage
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usage()
	}
	name := args[0]
	var kind report.Kind
	if name != "all" {
		k, err := report.ParseKind(name)
		if err != nil {
			fmt.Fprintf(stderr, "ehigate report: unknown kind %q\n", name)
			return usage()
		}
		kind = k
	}
	fs := newFlags("report "+name, stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	from := fs.String("from", "", "records received at or after `TIME` (2006-01-02, RFC 3339, or a duration ago such as 30d)")
	to := fs.String("to", "", "records received before `TIME`")
	format := fs.String("format", "table", "output `format`: table, json or html")
	by := fs.String("by", "", "who is reading (recorded with the access; default the OS user)")
	bucket := fs.String("bucket", "", "restrictions: time `bucket`, day, week or month (default from the window)")
	within := fs.String("within", "3d", "notices: also list items due within this `duration`")
	reviewWithin := fs.String("review-within", "30d", "reviews: also list reviews due within this `duration`")
	minRepeat := fs.Int("min", 3, "repeated: the fewest restrictions of one patient or requester listed")
	limit := fs.Int("limit", 50, "repeated: the most groups listed")
	var p report.Params
	fs.StringVar(&p.Filter.Patient, "patient", "", "only the records of this patient `id`")
	fs.StringVar(&p.Filter.Requester, "requester", "", "only the records of this requester (token `sub`)")
	fs.StringVar(&p.Filter.Policy, "policy", "", "only the records naming this policy `id`")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *file == "" || (*format != "table" && *format != "json" && *format != "html") || (name == "all" && *format == "table") {
		return usage()
	}
	var err error
	now := time.Now()
	if p.From, err = parseWhen(*from, now); err != nil {
		return err
	}
	if p.To, err = parseWhen(*to, now); err != nil {
		return err
	}
	if p.NoticeHorizon, err = yamlx.ParseDuration(*within); err != nil {
		return fmt.Errorf("--within: %w", err)
	}
	if p.ReviewHorizon, err = yamlx.ParseDuration(*reviewWithin); err != nil {
		return fmt.Errorf("--review-within: %w", err)
	}
	if b := store.Bucket(*bucket); b != "" && !b.Valid() {
		fmt.Fprintln(stderr, "ehigate report: --bucket must be day, week or month")
		return errUsage
	}
	p.Bucket, p.MinRepeat, p.Limit, p.Now = store.Bucket(*bucket), *minRepeat, *limit, now
	cfg, err := configs.Load(*file)
	if err != nil {
		return err
	}
	if set, err := loadPolicies(cfg.Policies, cfg.PolicyReview.MaxInterval); err == nil {
		p.Policies = set
	} else if kind == report.KindReviews {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var results []report.Result
	if name == "all" {
		results, err = report.All(ctx, st, p)
	} else {
		var r report.Result
		r, err = report.Run(ctx, st, kind, p)
		results = []report.Result{r}
	}
	if err != nil {
		return err
	}
	// The look at the records is journaled before anything is printed.
	if err := recordAccess(ctx, st, cfg, *by, "report "+strings.Join(args, " "), 0); err != nil {
		return fmt.Errorf("the report could not be recorded, so it is not shown: %w", err)
	}
	switch *format {
	case "html":
		title := "Compliance report"
		if name != "all" {
			title = report.TitleOf(kind)
		}
		return report.WriteHTML(stdout, title, now, results...)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if name == "all" {
			return enc.Encode(results)
		}
		return enc.Encode(results[0])
	}
	return report.WriteText(stdout, results[0])
}
