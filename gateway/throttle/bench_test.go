package throttle

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ehigate/ehigate/gateway/throttle/throttletest"
)

// benchAllow measures one throttle decision over 1,000 keys; p50-ns and
// p99-ns are per-decision percentiles.
func benchAllow(b *testing.B, l Limiter) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "bench:client_id:" + strconv.Itoa(i)
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, _, err := l.Allow(ctx, keys[i%len(keys)], 1000, 100); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
}

// BenchmarkAllow compares the in-process limiter with the shared Redis
// one (one EVALSHA round trip per decision).
func BenchmarkAllow(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchAllow(b, NewMemory(nil)) })
	b.Run("redis", func(b *testing.B) {
		r := newRedis(b, throttletest.SharedURL(b))
		benchAllow(b, r)
	})
}
