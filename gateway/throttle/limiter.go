package throttle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Errors matched with errors.Is.
var (
	// ErrUnavailable: the shared store could not be reached, so the limit
	// was not checked.
	ErrUnavailable = errors.New("throttle: limiter store unavailable")
	// ErrInvalid: the rate is not positive or the burst is below 1.
	ErrInvalid = errors.New("throttle: invalid limit")
)

// Limiter decides whether one more request under a limit may go now.
type Limiter interface {
	// Allow counts one request against key's limit of rate requests per
	// second, burst at once. It returns whether the request may go now
	// and, when not, how long until one may (a refused request is not
	// counted). An error (ErrUnavailable, ErrInvalid) means the limit was
	// not checked.
	Allow(ctx context.Context, key string, rate float64, burst int) (allowed bool, retryAfter time.Duration, err error)
}

// maxBurst bounds the burst so that the tolerance cannot overflow.
const maxBurst = 1 << 20

// params returns a limit's emission interval (the time one request
// "costs") and burst tolerance in units of unit.
func params(rate float64, burst int, unit time.Duration) (interval, tolerance int64, err error) {
	if !(rate > 0) || math.IsInf(rate, 0) || burst < 1 {
		return 0, 0, fmt.Errorf("%w: rate %v per second, burst %d", ErrInvalid, rate, burst)
	}
	burst = min(burst, maxBurst)
	iv := float64(time.Second/unit) / rate
	switch {
	case iv < 1:
		iv = 1
	case iv > float64(math.MaxInt64/maxBurst):
		iv = float64(math.MaxInt64 / maxBurst)
	}
	interval = int64(iv)
	return interval, interval * int64(burst), nil
}

// gcra is one step of the algorithm: tat is the stored theoretical
// arrival time (0 when none), now the current time, both in the units of
// interval and tolerance. It returns the time to store when the request
// is allowed, and otherwise how long until one would be.
func gcra(tat, now, interval, tolerance int64) (next int64, allowed bool, wait int64) {
	if tat < now {
		tat = now
	}
	next = tat + interval
	if at := next - tolerance; at > now {
		return 0, false, at - now
	}
	return next, true, 0
}
