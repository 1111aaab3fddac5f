package throttle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehigate/ehigate/gateway/throttle/throttletest"
)

func newRedis(t testing.TB, url string) *Redis {
	t.Helper()
	r, err := NewRedis(RedisOptions{URL: url, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// uniqueKey keeps concurrent test runs on the shared server apart.
func uniqueKey(t testing.TB) string {
	var b [8]byte
	rand.Read(b[:])
	return t.Name() + ":" + hex.EncodeToString(b[:])
}

func TestRedisLimit(t *testing.T) {
	r := newRedis(t, throttletest.SharedURL(t))
	ctx := context.Background()
	key := uniqueKey(t)
	// One an hour: time passing during the test changes nothing.
	for i := range 3 {
		if ok, wait, err := r.Allow(ctx, key, 1.0/3600, 3); err != nil || !ok || wait != 0 {
			t.Fatalf("request %d of the burst: %v %s %v", i, ok, wait, err)
		}
	}
	ok, wait, err := r.Allow(ctx, key, 1.0/3600, 3)
	if err != nil || ok {
		t.Fatalf("request over the burst: allowed %v err %v", ok, err)
	}
	if wait <= 59*time.Minute || wait > time.Hour {
		t.Fatalf("retry after %s, want just under an hour", wait)
	}
	if ok, _, err := r.Allow(ctx, key+"-other", 1.0/3600, 1); err != nil || !ok {
		t.Fatalf("another key: %v %v", ok, err)
	}
	if _, _, err := r.Allow(ctx, key, 0, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid limit: %v", err)
	}
}

// TestRedisSharedByReplicas runs two limiters (two gateway replicas, each
// with its own connection pool) against one key as fast as they can: the
// requests they admit together never exceed burst + rate × elapsed.
func TestRedisSharedByReplicas(t *testing.T) {
	url := throttletest.SharedURL(t)
	replicas := []*Redis{newRedis(t, url), newRedis(t, url)}
	key := uniqueKey(t)
	const rate, burst = 50.0, 10
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, r := range replicas {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					ok, _, err := r.Allow(context.Background(), key, rate, burst)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						admitted.Add(1)
					} else {
						refused.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	limit := burst + int64(rate*elapsed.Seconds()) + 1
	if n := admitted.Load(); n > limit || n < burst {
		t.Fatalf("admitted %d in %s, want between %d and %d", n, elapsed, burst, limit)
	}
	if refused.Load() == 0 && elapsed < 15*time.Second {
		t.Fatal("nothing was refused: the replicas did not contend")
	}
}

func TestRedisDown(t *testing.T) {
	srv := throttletest.Start(t)
	c := newClock()
	r, err := NewRedis(RedisOptions{URL: srv.URL, Timeout: 200 * time.Millisecond, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if ok, _, err := r.Allow(ctx, "k", 1, 1); err != nil || !ok {
		t.Fatalf("with the server up: %v %v", ok, err)
	}
	srv.Kill()
	if _, _, err := r.Allow(ctx, "k", 1, 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("server killed: err %v, want ErrUnavailable", err)
	}
	// Within the backoff Redis is not asked again.
	if _, _, err := r.Allow(ctx, "k", 1, 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("during the backoff: err %v", err)
	}
	c.add(time.Minute)
	if _, _, err := r.Allow(ctx, "k", 1, 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after the backoff, server still down: err %v", err)
	}
	if err := r.Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ping: %v", err)
	}
}

func TestRedisURL(t *testing.T) {
	if _, err := NewRedis(RedisOptions{URL: "http://x"}); err == nil {
		t.Fatal("an http URL was accepted")
	}
	r, err := NewRedis(RedisOptions{URL: "redis://user:secret@cache:6380/2", Password: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if s := r.String(); s != "redis cache:6380/2" {
		t.Fatalf("String() = %q", s)
	}
}
