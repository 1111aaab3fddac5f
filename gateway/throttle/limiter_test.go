package throttle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestGCRA(t *testing.T) {
	type step struct {
		at      time.Duration // since the start
		allowed bool
		wait    time.Duration
	}
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst 1 spaces requests", 1, 1, []step{
			{0, true, 0}, {0, false, time.Second}, {400 * time.Millisecond, false, 600 * time.Millisecond},
			{time.Second, true, 0}, {time.Second, false, time.Second},
		}},
		{"burst 3 at once, then the rate", 2, 3, []step{
			{0, true, 0}, {0, true, 0}, {0, true, 0}, {0, false, 500 * time.Millisecond},
			{500 * time.Millisecond, true, 0}, {500 * time.Millisecond, false, 500 * time.Millisecond},
		}},
		{"a refused request is not counted", 1, 1, []step{
			{0, true, 0}, {0, false, time.Second}, {0, false, time.Second}, {time.Second, true, 0},
		}},
		{"idle time refills the burst, no more", 10, 2, []step{
			{0, true, 0}, {0, true, 0}, {time.Hour, true, 0}, {time.Hour, true, 0}, {time.Hour, false, 100 * time.Millisecond},
		}},
		{"600 per minute", 10, 1, []step{
			{0, true, 0}, {50 * time.Millisecond, false, 50 * time.Millisecond}, {100 * time.Millisecond, true, 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			start := c.now()
			m := NewMemory(c.now)
			for i, s := range tc.steps {
				c.t = start.Add(s.at)
				ok, wait, err := m.Allow(context.Background(), "k", tc.rate, tc.burst)
				if err != nil || ok != s.allowed || wait != s.wait {
					t.Fatalf("step %d at %s: allowed %v wait %s err %v, want %v %s", i, s.at, ok, wait, err, s.allowed, s.wait)
				}
			}
		})
	}
}

func TestInvalidLimits(t *testing.T) {
	m := NewMemory(nil)
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {1, 0}, {1, -5}} {
		if _, _, err := m.Allow(context.Background(), "k", tc.rate, tc.burst); !errors.Is(err, ErrInvalid) {
			t.Errorf("rate %v burst %d: err %v, want ErrInvalid", tc.rate, tc.burst, err)
		}
	}
	// Extreme but valid limits neither overflow nor admit everything.
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{1e12, 1}, {1e-9, 1 << 30}} {
		if ok, _, err := m.Allow(context.Background(), fmt.Sprint(tc), tc.rate, tc.burst); err != nil || !ok {
			t.Errorf("rate %v burst %d: first request refused: %v", tc.rate, tc.burst, err)
		}
	}
}

func TestKeysAreIndependent(t *testing.T) {
	m := NewMemory(newClock().now)
	for _, k := range []string{"a", "b", "c"} {
		if ok, _, _ := m.Allow(context.Background(), k, 1, 1); !ok {
			t.Fatalf("first request of key %s refused", k)
		}
	}
	if ok, _, _ := m.Allow(context.Background(), "a", 1, 1); ok {
		t.Fatal("second request of key a admitted")
	}
}

func TestIdleKeysExpire(t *testing.T) {
	c := newClock()
	m := NewMemory(c.now)
	for i := range 1000 {
		m.Allow(context.Background(), fmt.Sprint("key-", i), 1, 5)
	}
	if n := m.Len(); n != 1000 {
		t.Fatalf("%d keys held, want 1000", n)
	}
	// Once every limit has recovered and a sweep is due, each shard drops
	// its keys at its next decision.
	c.add(sweepEvery + time.Second)
	for i := range 1000 {
		m.Allow(context.Background(), fmt.Sprint("other-", i), 1e6, 1)
	}
	if n := m.Len(); n > 1000 {
		t.Fatalf("%d keys held after their limits recovered, want at most the 1000 new ones", n)
	}
}

// TestConcurrentAdmissions checks the bound under contention: with a
// frozen clock, exactly burst requests are admitted.
func TestConcurrentAdmissions(t *testing.T) {
	m := NewMemory(newClock().now)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				if ok, _, _ := m.Allow(context.Background(), "shared", 10, 25); ok {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 25 {
		t.Fatalf("%d admitted, want the burst of 25", n)
	}
}
