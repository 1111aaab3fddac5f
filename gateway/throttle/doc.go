// Package throttle decides whether a request under a throttle policy may
// go now, with the generic cell rate algorithm (GCRA): each limit keeps
// one number, the theoretical arrival time of the next request, so that a
// limit of rate requests per second admits burst requests at once and
// then one every 1/rate seconds, and a refused request learns exactly how
// long to wait (Retry-After).
//
// Two Limiters implement it: Memory, in-process (sharded maps, idle keys
// dropped as they expire), for a single gateway; and Redis, shared by
// every replica through one atomic Lua script per decision (EVALSHA),
// timed by the Redis server's clock. Redis fails fast when its server
// cannot be reached (ErrUnavailable) so that the throttle policy's
// on_store_failure behaviour decides, and backs off before trying again.
package throttle
