package configs

import (
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
)

// PolicyReview configures the review rules that keep restrictions from
// quietly becoming permanent.
type PolicyReview struct {
	// MaxInterval is how far a policy's review_by may lie past its latest
	// review (or its decision date when it has none).
	MaxInterval time.Duration `yaml:"max_interval"`
}

// Notices configures the written responses restrictions oblige.
type Notices struct {
	// TimeZone decides the date a request was received on when business
	// days are counted (an IANA name; default UTC).
	TimeZone string `yaml:"time_zone"`
}

// Location returns the notices' time zone (UTC when unset or unknown).
func (n Notices) Location() *time.Location {
	if n.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(n.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func defaultPolicyReview() PolicyReview { return PolicyReview{MaxInterval: 365 * 24 * time.Hour} }

func (c *Config) validatePolicyKeys() yamlx.Problems {
	var ps yamlx.Problems
	if c.PolicyReview.MaxInterval <= 0 {
		c.Doc.Add(&ps, "policy_review.max_interval", "must be positive")
	}
	if tz := c.Notices.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			c.Doc.Add(&ps, "notices.time_zone", "unknown time zone %q (want an IANA name such as America/New_York)", tz)
		}
	}
	return ps
}
