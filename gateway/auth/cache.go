package auth

import (
	"sync"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// tokenKey is the SHA-256 of a token: the cache never holds tokens.
type tokenKey [32]byte

// cached is what the cache remembers of one token: the requester it
// identifies, or the refusal (kept briefly so that a flood of one bad
// token does not reach the authorization server each time).
type cached struct {
	who  decision.Requester
	err  error
	till time.Time
}

// cache remembers identified tokens until they expire. It is bounded:
// when full, expired entries go first, then arbitrary ones.
type cache struct {
	mu  sync.Mutex
	m   map[tokenKey]cached
	max int
}

func newCache(max int) *cache { return &cache{m: make(map[tokenKey]cached), max: max} }

func (c *cache) get(k tokenKey, now time.Time) (cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return cached{}, false
	}
	if !now.Before(e.till) {
		delete(c.m, k)
		return cached{}, false
	}
	return e, true
}

func (c *cache) put(k tokenKey, e cached, now time.Time) {
	if !now.Before(e.till) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, old := range c.m {
			if !now.Before(old.till) {
				delete(c.m, key)
			}
		}
		// Still full: drop an eighth, in map order (arbitrary).
		for key := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = e
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
