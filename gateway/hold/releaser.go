package hold

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// pruneEvery is how often Run prunes finished holds.
const pruneEvery = time.Hour

// Run releases due holds every Interval, and prunes finished holds past
// KeepFinished hourly, until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	var pruned time.Time
	for {
		if _, err := m.Step(ctx); err != nil && ctx.Err() == nil {
			m.opts.Logger.Warn("hold releaser", "err", err)
		}
		if now := m.now(); m.opts.KeepFinished > 0 && now.Sub(pruned) >= pruneEvery {
			pruned = now
			m.Prune(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune deletes the finished holds created more than KeepFinished ago
// (nothing when it is zero) and returns how many; their records and
// transitions stay in the journal.
func (m *Manager) Prune(ctx context.Context) int64 {
	if m.opts.KeepFinished <= 0 {
		return 0
	}
	n, err := m.opts.Store.PruneHolds(ctx, m.now().Add(-m.opts.KeepFinished))
	switch {
	case err != nil && ctx.Err() == nil:
		m.opts.Logger.Warn("hold pruning", "err", err)
	case n > 0:
		m.opts.Logger.Info("finished holds pruned", "count", n, "keep_finished", m.opts.KeepFinished.String())
	}
	return n
}

// Step is one releaser pass: holds whose time came are released, released
// holds' answers fetched (with a Fetcher), and answers not collected in
// time expired. It returns how many holds it moved on. A hold another
// replica moved first is left to it.
func (m *Manager) Step(ctx context.Context) (int, error) {
	due, err := m.opts.Store.Holds(ctx, store.HoldQuery{DueBy: m.now(), Limit: 1000,
		States: []store.HoldState{store.HoldHeld, store.HoldReleased, store.HoldReady}})
	if err != nil {
		return 0, fmt.Errorf("hold: releaser: %w", err)
	}
	moved := 0
	var errs []error
	for _, listed := range due {
		if ctx.Err() != nil {
			break
		}
		h, err := m.opts.Store.Hold(ctx, listed.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ok, err := m.step(ctx, &h)
		switch {
		case errors.Is(err, store.ErrHoldConflict), errors.Is(err, ErrUnsettled):
			// Another replica moved it, or its record is still being
			// completed: the next pass sees.
		case err != nil:
			errs = append(errs, fmt.Errorf("hold %s: %w", h.ID, err))
		case ok:
			moved++
		}
	}
	return moved, errors.Join(errs...)
}

func (m *Manager) step(ctx context.Context, h *store.Hold) (bool, error) {
	now := m.now()
	if h.DueAt.IsZero() || h.DueAt.After(now) {
		return false, nil // moved on since it was listed
	}
	switch h.State {
	case store.HoldHeld:
		if h.ReleaseAt.IsZero() || h.ReleaseAt.After(now) {
			return false, nil
		}
		if err := m.release(ctx, h, SystemActor, ReasonTimeReached); err != nil {
			return false, err
		}
		if m.opts.Fetcher == nil {
			return true, nil
		}
		_, err := m.fetch(ctx, h)
		return true, err
	case store.HoldReleased:
		if !h.ExpiresAt.IsZero() && !now.Before(h.ExpiresAt) {
			return true, m.expire(ctx, h, "the answer could not be fetched before the hold expired")
		}
		if m.opts.Fetcher == nil {
			return false, nil
		}
		return m.fetch(ctx, h)
	case store.HoldReady:
		return true, m.expire(ctx, h, fmt.Sprintf("not collected within %s", m.opts.Keep))
	}
	return false, nil
}

// fetch claims a released hold for one lease, fetches its answer and keeps
// it (state ready); a failed fetch is retried with backoff.
func (m *Manager) fetch(ctx context.Context, h *store.Hold) (bool, error) {
	h.Attempts++
	h.DueAt = m.now().Add(lease)
	if err := m.opts.Store.UpdateHold(ctx, h); err != nil {
		return false, err // claimed by another replica
	}
	resp, err := m.opts.Fetcher.Fetch(ctx, &h.Request, m.opts.MaxResponse)
	if errors.Is(err, ErrTooLarge) {
		return true, m.expire(ctx, h, fmt.Sprintf("the upstream answer is larger than %d bytes", m.opts.MaxResponse))
	}
	if err != nil {
		h.LastError = err.Error()
		h.DueAt = m.now().Add(retryAfter(h.Attempts))
		if uerr := m.opts.Store.UpdateHold(ctx, h); uerr != nil {
			return false, uerr
		}
		return false, fmt.Errorf("fetch (attempt %d): %w", h.Attempts, err)
	}
	h.State, h.Response, h.LastError = store.HoldReady, resp, ""
	h.DueAt = h.ExpiresAt
	// The credentials are not needed any more; the request stays, to be
	// decided again when its answer is collected.
	h.Request.Header = withoutCredentials(h.Request.Header)
	if err := m.opts.Store.UpdateHold(ctx, h); err != nil {
		return false, err
	}
	return true, nil
}

// retryAfter is the wait before fetch attempt n+1: 30s doubling, at most
// an hour.
func retryAfter(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// withoutCredentials drops the headers that carry credentials.
func withoutCredentials(h http.Header) http.Header {
	h = h.Clone()
	for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
		h.Del(k)
	}
	return h
}
