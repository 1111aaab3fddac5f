package main

import (
	"context"
	"sync"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// holdsPendingTTL is how long a count of pending holds is reused: a
// scrape every few seconds costs at most one store query per TTL.
const holdsPendingTTL = 10 * time.Second

// holdsPending returns the gauge source for the holds not yet released
// (held, or released with their answer not yet fetched): a count from the
// store, cached for holdsPendingTTL. It reports -1 (not observed) when
// holds are not in use or the store does not answer. The count stops at
// the store's largest hold list, 10,000.
func (a *app) holdsPending() func() int64 {
	if a.enf.holds == nil {
		return func() int64 { return -1 }
	}
	var (
		mu    sync.Mutex
		at    time.Time
		count int64 = -1
	)
	return func() int64 {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) < holdsPendingTTL {
			return count
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs, err := a.store.Holds(ctx, store.HoldQuery{States: []store.HoldState{store.HoldHeld, store.HoldReleased}, Limit: 10000})
		at = time.Now()
		if err != nil {
			count = -1
			return count
		}
		count = int64(len(hs))
		return count
	}
}
