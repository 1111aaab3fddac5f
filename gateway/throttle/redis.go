package throttle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// gcraScript is the GCRA step run atomically in Redis. KEYS[1] is the
// limit's key; ARGV[1] the emission interval and ARGV[2] the burst
// tolerance, in microseconds. It returns {allowed, wait in microseconds}.
// Time comes from the Redis server (TIME), so that replicas whose clocks
// differ share one limit; the key expires once the limit has recovered.
// replicate_commands makes TIME before a write legal on Redis 3.2 to 4; it
// is a no-op from Redis 5 on.
const gcraScript = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local nxt = tat + interval
local at = nxt - tolerance
if at > now then return {0, at - now} end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', string.format('%d', math.ceil((nxt - now) / 1000) + 1))
return {1, 0}
`

// DefaultTimeout bounds one decision against Redis.
const DefaultTimeout = 50 * time.Millisecond

// backoff is how long Redis is not asked again after it failed: the
// policy's on_store_failure behaviour applies at once meanwhile, instead of
// every request waiting for the timeout.
const backoff = 500 * time.Millisecond

// RedisOptions configure a Redis limiter.
type RedisOptions struct {
	// URL is redis://[user:password@]host:port/db, rediss:// for TLS, or
	// unix:///path.
	URL string
	// Password, when set, overrides the URL's.
	Password string
	// Timeout bounds one decision (default 50ms).
	Timeout time.Duration
	// Prefix is put before every key (default "ehigate:throttle:").
	Prefix string
	// Clock times the backoff after a failure (default time.Now); the
	// limit itself is timed by the Redis server.
	Clock func() time.Time
}

// Redis is a Limiter shared by every gateway replica using the same Redis
// server. It is safe for concurrent use.
type Redis struct {
	c         *redis.Client
	script    *redis.Script
	timeout   time.Duration
	prefix    string
	now       func() time.Time
	downUntil atomic.Int64 // Unix nanoseconds
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a Redis limiter. It does not connect: the first
// decision does.
func NewRedis(opts RedisOptions) (*Redis, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("throttle: redis url: %w", err)
	}
	if opts.Password != "" {
		ro.Password = opts.Password
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Prefix == "" {
		opts.Prefix = "ehigate:throttle:"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	// Fail fast: the caller's failure behaviour is the fallback, and a
	// request must not wait on retries.
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	ro.DialTimeout = max(opts.Timeout, 250*time.Millisecond)
	ro.ReadTimeout, ro.WriteTimeout = opts.Timeout, opts.Timeout
	ro.ContextTimeoutEnabled = true
	ro.Protocol = 2
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return &Redis{
		c: redis.NewClient(ro), script: redis.NewScript(gcraScript),
		timeout: opts.Timeout, prefix: opts.Prefix, now: opts.Clock,
	}, nil
}

// Allow implements Limiter. It returns ErrUnavailable when Redis does not
// answer within the timeout, and for a short while after such a failure.
func (r *Redis) Allow(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	interval, tolerance, err := params(rate, burst, time.Microsecond)
	if err != nil {
		return false, 0, err
	}
	now := r.now().UnixNano()
	if now < r.downUntil.Load() {
		return false, 0, fmt.Errorf("%w: backing off after a failure", ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := r.script.Run(ctx, r.c, []string{r.prefix + key}, interval, tolerance).Int64Slice()
	if err == nil && len(res) != 2 {
		err = errors.New("unexpected script result")
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
			return false, 0, fmt.Errorf("throttle: %w", ctx.Err()) // the caller went away
		}
		r.downUntil.Store(r.now().Add(backoff).UnixNano())
		return false, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(r.timeout, time.Second))
	defer cancel()
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Close closes the connections to Redis.
func (r *Redis) Close() error { return r.c.Close() }

// String names the server, without credentials.
func (r *Redis) String() string {
	o := r.c.Options()
	return "redis " + o.Addr + "/" + strconv.Itoa(o.DB)
}
