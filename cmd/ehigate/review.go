package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/configs/yamlx"
)

// runReview lists the policies whose review is overdue or due within
// --within; an overdue policy flags every record it touches and, with
// on_review_overdue: lapse, no longer enforces.
func runReview(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("review", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	within := fs.String("within", "30d", "also list reviews due within this `duration` (e.g. 30d)")
	at := fs.String("at", "", "as of this `time` (2006-01-02 or RFC 3339; default now)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "ehigate review: --config is required")
		return errUsage
	}
	horizon, err := yamlx.ParseDuration(*within)
	if err != nil {
		fmt.Fprintf(stderr, "ehigate review: --within: %v\n", err)
		return errUsage
	}
	now := time.Now()
	if *at != "" {
		if now, err = yamlx.ParseTime(*at); err != nil {
			fmt.Fprintf(stderr, "ehigate review: --at: %v\n", err)
			return errUsage
		}
	}
	cfg, err := configs.Load(*file)
	if err != nil {
		return err
	}
	set, err := loadPolicies(cfg.Policies, cfg.PolicyReview.MaxInterval)
	if err != nil {
		return err
	}
	items := set.Reviews(now, horizon)
	if len(items) == 0 {
		fmt.Fprintf(stdout, "no policy review is overdue or due within %s (%d policies)\n", *within, len(set.Policies()))
		return nil
	}
	for _, r := range items {
		file, line := r.Policy.Pos()
		fmt.Fprintf(stdout, "%s:%d: %s\n", file, line, r)
	}
	return nil
}
