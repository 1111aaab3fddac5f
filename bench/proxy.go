package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"
)

// runProxyBench measures req/s and latency through each target in the same
// run, rounds interleaved so that drift hits every target alike.
func runProxyBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	conns := fs.Int("c", 64, "concurrent connections")
	dur := fs.Duration("d", 10*time.Second, "measured duration per target and round")
	warm := fs.Duration("warmup", 2*time.Second, "unmeasured warm-up per target and round")
	rounds := fs.Int("rounds", 3, "rounds (the median round is reported)")
	entries := fs.Int("entries", 20, "entries per search Bundle")
	redact := fs.Bool("redact", false, "put a redaction policy in force (vital-sign Observations withheld)")
	fs.Parse(args)

	st, err := startStack(ctx, *entries, *redact)
	if err != nil {
		return err
	}
	defer st.stop()
	upBase, gwAddr := st.upBase, st.gwAddr
	plain, plainAddr, err := startSelf(ctx, "plainproxy", upBase)
	if err != nil {
		return err
	}
	defer plain.stop()

	const query = "/Observation?patient=p&_count=20"
	targets := []struct{ name, url string }{
		{"direct", upBase + query},
		{"reverseproxy", "http://" + plainAddr + "/fhir" + query},
		{"ehigate", "http://" + gwAddr + "/fhir" + query},
	}
	if ng, addr, err := startNginx(ctx, st.dir, upBase); err == nil {
		defer ng.stop()
		targets = append(targets, struct{ name, url string }{"nginx", "http://" + addr + "/fhir" + query})
	} else {
		fmt.Fprintf(os.Stderr, "nginx: %v (skipped)\n", err)
	}

	fmt.Fprintf(os.Stderr, "%d connections, %s per target per round, %d rounds, %d-entry Bundles\n", *conns, *dur, *rounds, *entries)
	all := map[string][]result{}
	for r := 0; r < *rounds; r++ {
		for _, tg := range targets {
			res := load(ctx, tg.name, tg.url, *conns, *warm, *dur)
			if res.errors > 0 {
				fmt.Fprintf(os.Stderr, "%s: %d errors in round %d\n", tg.name, res.errors, r+1)
			}
			all[tg.name] = append(all[tg.name], res)
			fmt.Fprintf(os.Stderr, "round %d %-12s %8.0f req/s\n", r+1, tg.name, res.rps())
		}
	}
	med := map[string]result{}
	for name, rs := range all {
		sort.Slice(rs, func(i, j int) bool { return rs[i].rps() < rs[j].rps() })
		med[name] = rs[len(rs)/2]
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\treq/s\tp50\tp99\tKB/resp\tvs direct\tvs reverseproxy\t")
	for _, tg := range targets {
		r := med[tg.name]
		kb := 0.0
		if r.requests > 0 {
			kb = float64(r.bytes) / float64(r.requests) / 1024
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.1f\t%.2f\t%.2f\t\n", tg.name, r.rps(), round(r.pct(0.5)), round(r.pct(0.99)), kb,
			r.rps()/med["direct"].rps(), r.rps()/med["reverseproxy"].rps())
	}
	tw.Flush()
	recs, err := countRecords(ctx, st.cfg)
	if err == nil {
		fmt.Printf("\nehigate wrote %s decision records (every request recorded, fsync'd group commits)\n", recs)
	}
	return nil
}

func round(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	}
}

// countRecords counts records in the gateway's store through its own CLI.
func countRecords(ctx context.Context, cfg string) (string, error) {
	db := filepath.Join(filepath.Dir(cfg), "records.db")
	if _, err := os.Stat(db); err != nil {
		return "", err
	}
	return recordCount(ctx, db)
}
