package throttle

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// shards is the number of independently locked maps of a Memory limiter.
const shards = 64

// sweepEvery is how often a shard drops the keys whose limit has fully
// recovered (their state is then the same as no state at all).
const sweepEvery = time.Minute

// Memory is an in-process Limiter: limits are counted by this process
// only. It is safe for concurrent use; a key's state is one int64, and a
// key is dropped once its limit has recovered, so memory follows the
// number of recently active keys.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [shards]shard
}

type shard struct {
	mu      sync.Mutex
	tat     map[string]int64 // theoretical arrival time, Unix nanoseconds
	sweepAt int64
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an in-process limiter; clock defaults to time.Now.
func NewMemory(clock func() time.Time) *Memory {
	if clock == nil {
		clock = time.Now
	}
	m := &Memory{now: clock, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tat = make(map[string]int64)
	}
	return m
}

// Allow implements Limiter; it never returns ErrUnavailable.
func (m *Memory) Allow(_ context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	interval, tolerance, err := params(rate, burst, time.Nanosecond)
	if err != nil {
		return false, 0, err
	}
	sh := &m.shards[maphash.String(m.seed, key)%shards]
	now := m.now().UnixNano()
	sh.mu.Lock()
	if now >= sh.sweepAt {
		sh.sweep(now)
	}
	next, ok, wait := gcra(sh.tat[key], now, interval, tolerance)
	if ok {
		sh.tat[key] = next
	}
	sh.mu.Unlock()
	return ok, time.Duration(wait), nil
}

// sweep drops the keys whose theoretical arrival time has passed.
func (s *shard) sweep(now int64) {
	for k, t := range s.tat {
		if t <= now {
			delete(s.tat, k)
		}
	}
	s.sweepAt = now + int64(sweepEvery)
}

// Len returns the number of keys held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}
