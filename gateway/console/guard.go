package console

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Failed sign-ins are limited per client address, so that the sign-in
// form cannot be used to guess tokens at speed (each refusal is also
// journaled by the API as an unknown token).
const (
	// maxFailedSignins is how many failed sign-ins an address may make
	// within signinWindow.
	maxFailedSignins = 10
	signinWindow     = 5 * time.Minute
	// maxGuarded bounds the addresses tracked; beyond it, expired windows
	// are swept and, if none, the oldest is forgotten.
	maxGuarded = 10000
)

// signinGuard counts failed sign-ins per client address in fixed windows.
type signinGuard struct {
	mu    sync.Mutex
	fails map[string]*failWindow
}

type failWindow struct {
	start time.Time
	count int
}

func newSigninGuard() *signinGuard { return &signinGuard{fails: map[string]*failWindow{}} }

// clientAddr is the host part of the request's remote address.
func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// wait returns how long addr must wait before it may try again (0: it
// may try now).
func (g *signinGuard) wait(addr string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.fails[addr]
	if w == nil || now.Sub(w.start) >= signinWindow {
		return 0
	}
	if w.count < maxFailedSignins {
		return 0
	}
	return w.start.Add(signinWindow).Sub(now)
}

// failed counts a failed sign-in from addr.
func (g *signinGuard) failed(addr string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.fails[addr]
	if w == nil || now.Sub(w.start) >= signinWindow {
		if w == nil && len(g.fails) >= maxGuarded {
			g.sweep(now)
		}
		w = &failWindow{start: now}
		g.fails[addr] = w
	}
	w.count++
}

// succeeded forgets addr's failures.
func (g *signinGuard) succeeded(addr string) {
	g.mu.Lock()
	delete(g.fails, addr)
	g.mu.Unlock()
}

// sweep drops ended windows, or the oldest when none has ended.
func (g *signinGuard) sweep(now time.Time) {
	var oldest string
	for a, w := range g.fails {
		if now.Sub(w.start) >= signinWindow {
			delete(g.fails, a)
			continue
		}
		if oldest == "" || w.start.Before(g.fails[oldest].start) {
			oldest = a
		}
	}
	if len(g.fails) >= maxGuarded && oldest != "" {
		delete(g.fails, oldest)
	}
}
