package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Readiness answers /readyz: ready when the store answers, or, while it
// does not, when records go to the journal's spool instead; and when a
// policy set is loaded. The body lists each check; the FHIR listener
// serves it too.
type Readiness struct {
	// Ping checks the store.
	Ping func(ctx context.Context) error
	// SpoolDepth returns how many entries wait in the spool.
	SpoolDepth func() int
	// Spooled says records go to a local spool while the store is
	// unreachable (the gateway stays ready).
	Spooled bool
	// PoliciesLoaded reports whether a policy set is in force (nil: not
	// checked).
	PoliciesLoaded func() bool
	// Timeout bounds the store's answer (default 2s).
	Timeout time.Duration
}

// ServeHTTP implements http.Handler.
func (rd *Readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	timeout := rd.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	ready := true
	var b strings.Builder
	depth := 0
	if rd.SpoolDepth != nil {
		depth = rd.SpoolDepth()
	}
	switch err := rd.Ping(ctx); {
	case err == nil:
		fmt.Fprintf(&b, "store: ok\nspool_depth: %d\n", depth)
	case rd.Spooled:
		// Records are spooled: still ready, and the depth says how far
		// behind the store is.
		fmt.Fprintf(&b, "store: unreachable (records are spooled)\nspool_depth: %d\n", depth)
	default:
		ready = false
		fmt.Fprintf(&b, "store: unreachable\nspool_depth: %d\n", depth)
	}
	if rd.PoliciesLoaded != nil {
		if rd.PoliciesLoaded() {
			b.WriteString("policies: loaded\n")
		} else {
			ready = false
			b.WriteString("policies: not loaded\n")
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "not ready\n"+b.String())
		return
	}
	fmt.Fprint(w, "ready\n"+b.String())
}
