package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// result is what a load run measured.
type result struct {
	name     string
	requests int
	errors   int
	bytes    int64
	elapsed  time.Duration
	lat      []time.Duration
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// load sends GETs to url from conns concurrent connections for d (after a
// warm-up of warm that is not counted), reading every body to the end.
func load(ctx context.Context, name, url string, conns int, warm, d time.Duration) result {
	tr := &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var mu sync.Mutex
	res := result{name: name}
	start := time.Now()
	measureFrom := start.Add(warm)
	end := measureFrom.Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var n, errs int
			var bytes int64
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				resp, err := c.Get(url)
				var k int64
				if err == nil {
					k, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs++
					}
				}
				t1 := time.Now()
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs++
					continue
				}
				n++
				bytes += k
				lat = append(lat, t1.Sub(t0))
			}
			mu.Lock()
			res.requests += n
			res.errors += errs
			res.bytes += bytes
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = d
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	return res
}
