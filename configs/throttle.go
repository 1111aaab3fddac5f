package configs

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
)

// Throttle configures the enforcement of throttle policies.
type Throttle struct {
	// Redis, when its URL is set, holds the limits every replica shares;
	// without it each gateway counts its own requests.
	Redis ThrottleRedis `yaml:"redis"`
}

// ThrottleRedis is the Redis server shared throttles are counted in.
type ThrottleRedis struct {
	// URL is redis://host:port/db, rediss:// for TLS, or unix:///path.
	URL string `yaml:"url"`
	// PasswordFile holds the password (read at start; trailing white
	// space removed); it overrides one in the URL.
	PasswordFile string `yaml:"password_file"`
	// Timeout bounds one throttle decision; past it the policy's
	// on_store_failure behaviour applies.
	Timeout time.Duration `yaml:"timeout"`
}

// Enabled reports whether a Redis server is configured.
func (r ThrottleRedis) Enabled() bool { return r.URL != "" }

// ReadPassword returns the password from PasswordFile ("" when unset).
func (r ThrottleRedis) ReadPassword() (string, error) {
	if r.PasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(r.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("configs: throttle.redis.password_file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Holds configures requests parked by delay policies in hold form.
type Holds struct {
	// ReleaseInterval is how often due holds are released and their
	// answers fetched.
	ReleaseInterval time.Duration `yaml:"release_interval"`
	// Keep is how long a released hold's answer waits to be collected.
	Keep time.Duration `yaml:"keep"`
	// MaxResponse bounds an answer kept for collection.
	MaxResponse ByteSize `yaml:"max_response"`
	// KeepFinished is how long a finished hold stays listed (its record
	// stays in the journal); zero keeps it.
	KeepFinished time.Duration `yaml:"keep_finished"`
}

func defaultThrottle() Throttle {
	return Throttle{Redis: ThrottleRedis{Timeout: 50 * time.Millisecond}}
}

func defaultHolds() Holds {
	return Holds{ReleaseInterval: 15 * time.Second, Keep: 7 * 24 * time.Hour, MaxResponse: 64 << 20, KeepFinished: 90 * 24 * time.Hour}
}

func (c *Config) validateThrottle() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	r := c.Throttle.Redis
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		switch {
		case err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix"):
			add("throttle.redis.url", "want a redis://host:port/db, rediss:// or unix:// URL")
		case u.Scheme != "unix" && u.Host == "":
			add("throttle.redis.url", "names no host")
		}
	} else if r.PasswordFile != "" {
		add("throttle.redis.password_file", "applies only with throttle.redis.url")
	}
	if r.Timeout <= 0 || r.Timeout > 10*time.Second {
		add("throttle.redis.timeout", "must be positive and at most 10s (every throttled request waits for it)")
	}
	if r.PasswordFile != "" {
		if _, err := os.Stat(r.PasswordFile); err != nil {
			add("throttle.redis.password_file", "cannot read %s: %v", r.PasswordFile, unwrapPath(err))
		}
	}
	h := c.Holds
	if h.ReleaseInterval < time.Second {
		add("holds.release_interval", "must be at least 1s")
	}
	if h.Keep < time.Minute {
		add("holds.keep", "must be at least 1m")
	}
	if h.MaxResponse <= 0 {
		add("holds.max_response", "must be positive")
	}
	if h.KeepFinished != 0 && h.KeepFinished < h.Keep {
		add("holds.keep_finished", "must be 0 (keep) or at least holds.keep (%s), so that a hold is never pruned before its answer could be collected", h.Keep)
	}
	return ps
}
