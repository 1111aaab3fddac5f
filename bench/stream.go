package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/ehigate/ehigate/configs"
)

// runStreamBench streams a large searchset Bundle through ehigate and
// samples the gateway's RSS: memory must stay flat however large the
// response.
func runStreamBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stream", flag.ExitOnError)
	var size configs.ByteSize = 512 << 20
	fs.TextVar(&size, "size", &size, "response size (e.g. 512MiB)")
	redact := fs.Bool("redact", false, "put a redaction policy in force (vital-sign Observations withheld)")
	fs.Parse(args)

	st, err := startStack(ctx, 20, *redact)
	if err != nil {
		return err
	}
	defer st.stop()
	gw, gwAddr := st.gw, st.gwAddr

	// Warm the gateway with ordinary traffic first so that the baseline
	// includes its steady-state heap.
	load(ctx, "warm", "http://"+gwAddr+"/fhir/Observation?patient=p", 8, 0, 2*time.Second)
	base, err := rssKB(gw.pid())
	if err != nil {
		return err
	}
	var mu sync.Mutex
	peak := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if kb, err := rssKB(gw.pid()); err == nil {
					mu.Lock()
					peak = max(peak, kb)
					mu.Unlock()
				}
			}
		}
	}()
	start := time.Now()
	resp, err := http.Get("http://" + gwAddr + "/fhir/Observation/$stream?bytes=" + strconv.FormatInt(int64(size), 10))
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	close(stop)
	<-done
	if err != nil {
		return err
	}
	fmt.Printf("streamed %.0f MiB through ehigate in %s (%.0f MiB/s)\n", float64(n)/(1<<20), took.Round(time.Millisecond), float64(n)/(1<<20)/took.Seconds())
	fmt.Printf("gateway RSS: %.1f MiB before, %.1f MiB peak, growth %.1f MiB (target ≤ 64 MiB)\n",
		float64(base)/1024, float64(peak)/1024, float64(peak-base)/1024)
	return nil
}

// recordCount counts the records in a gateway's SQLite store.
func recordCount(ctx context.Context, db string) (string, error) {
	h, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		return "", err
	}
	defer h.Close()
	var n int64
	if err := h.QueryRowContext(ctx, "SELECT COUNT(*) FROM records").Scan(&n); err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), nil
}
