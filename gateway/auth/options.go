package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// Mode is how tokens are treated.
type Mode string

// The modes.
const (
	// ModeOff: identity is not configured; every requester is anonymous.
	ModeOff Mode = "off"
	// ModeVerify: tokens are verified (JWKS or introspection).
	ModeVerify Mode = "verify"
	// ModePassthrough: the EHR verifies tokens; identity is read from them
	// unverified and records are flagged identity-unverified.
	ModePassthrough Mode = "passthrough"
)

// DefaultAlgorithms are the signature algorithms accepted when an issuer
// names none.
var DefaultAlgorithms = []string{"RS256", "RS384", "ES256", "ES384"}

// allowedAlgorithms are the asymmetric JWS algorithms an issuer may list.
// HMAC algorithms are never allowed: with keys from a JWKS, a public key
// would serve as the shared secret.
var allowedAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// AlgorithmAllowed reports whether an issuer may list algorithm alg.
func AlgorithmAllowed(alg string) bool { return allowedAlgorithms[alg] }

// Issuer is one authorization server whose tokens are accepted.
type Issuer struct {
	// Issuer is the exact iss claim of its tokens.
	Issuer string
	// JWKSURL is where its signing keys are published; empty when its
	// tokens are only introspected.
	JWKSURL string
	// Audience must be among the token's aud values.
	Audience string
	// Algorithms are the JWS algorithms accepted (DefaultAlgorithms when
	// empty).
	Algorithms []string
	// Introspection, when set, is its RFC 7662 endpoint, used for opaque
	// tokens (and for its JWTs when JWKSURL is empty).
	Introspection *Introspection
}

// Introspection is an RFC 7662 token introspection endpoint.
type Introspection struct {
	URL string
	// ClientID and ClientSecret authenticate the gateway to it (HTTP Basic).
	ClientID     string
	ClientSecret string
}

// ClassRule assigns a requester class when every condition it sets holds.
type ClassRule struct {
	Class decision.Class
	// Issuer, when set, must equal the token's issuer.
	Issuer string
	// ClientID, when set, must equal the token's client id.
	ClientID string
	// Claims maps claim names (dotted for nested claims) to accepted
	// values; the claim must hold one of them (for a list claim, one of
	// its elements must; the scope claim is compared scope by scope).
	Claims map[string][]string
}

// Options configure an Authenticator.
type Options struct {
	Mode    Mode
	Issuers []Issuer
	// Leeway is allowed on exp, nbf and iat (default 30s, at most 5m).
	Leeway time.Duration
	// MaxTokenBytes bounds a token (default 16 KiB).
	MaxTokenBytes int
	// AllowQueryToken accepts access_token in the query string (RFC 6750
	// §2.3); otherwise a request carrying one is refused.
	AllowQueryToken bool
	// Classes are tried in order; the first match sets the class.
	Classes []ClassRule
	// DefaultClass is the class when no rule matches.
	DefaultClass decision.Class
	// PurposeClaims name the claims (dotted for nested ones) holding the
	// purpose of use.
	PurposeClaims []string

	// HTTPClient fetches JWKS and calls introspection endpoints (default:
	// a client with a 10s timeout).
	HTTPClient *http.Client
	// RefreshInterval refreshes every JWKS periodically (default 1h).
	RefreshInterval time.Duration
	// UnknownKeyInterval is the least time between two JWKS refreshes
	// caused by tokens with an unknown kid, per issuer (default 1m).
	UnknownKeyInterval time.Duration
	// KeyWait bounds how long a request with an unknown kid waits for the
	// refresh it may trigger (default 5s).
	KeyWait time.Duration
	// CacheSize bounds the verified tokens remembered until they expire
	// (default 10,000).
	CacheSize int
	// Logger receives refusal reasons at debug level and JWKS problems;
	// never tokens.
	Logger *slog.Logger
	// Clock defaults to time.Now.
	Clock func() time.Time
}

// The defaults and bounds of Options.
const (
	DefaultLeeway        = 30 * time.Second
	MaxLeeway            = 5 * time.Minute
	DefaultMaxTokenBytes = 16 << 10
	defaultCacheSize     = 10000
)

func (o *Options) setDefaults() error {
	var errs []error
	switch o.Mode {
	case ModeOff, ModeVerify, ModePassthrough:
	case "":
		o.Mode = ModeOff
	default:
		errs = append(errs, fmt.Errorf("auth: unknown mode %q", o.Mode))
	}
	switch {
	case o.Leeway == 0:
		o.Leeway = DefaultLeeway
	case o.Leeway < 0 || o.Leeway > MaxLeeway:
		errs = append(errs, fmt.Errorf("auth: leeway %s outside 0..%s", o.Leeway, MaxLeeway))
	}
	if o.MaxTokenBytes <= 0 {
		o.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = time.Hour
	}
	if o.UnknownKeyInterval <= 0 {
		o.UnknownKeyInterval = time.Minute
	}
	if o.KeyWait <= 0 {
		o.KeyWait = 5 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = defaultCacheSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Mode == ModeVerify && len(o.Issuers) == 0 {
		errs = append(errs, errors.New("auth: verify mode needs at least one issuer"))
	}
	seen := map[string]bool{}
	for i := range o.Issuers {
		is := &o.Issuers[i]
		if is.Issuer == "" {
			errs = append(errs, fmt.Errorf("auth: issuer %d has no issuer", i))
		}
		if seen[is.Issuer] {
			errs = append(errs, fmt.Errorf("auth: issuer %q listed twice", is.Issuer))
		}
		seen[is.Issuer] = true
		if o.Mode == ModeVerify && is.JWKSURL == "" && is.Introspection == nil {
			errs = append(errs, fmt.Errorf("auth: issuer %q needs a JWKS URL or an introspection endpoint", is.Issuer))
		}
		if is.JWKSURL != "" && is.Audience == "" {
			errs = append(errs, fmt.Errorf("auth: issuer %q has no audience", is.Issuer))
		}
		if len(is.Algorithms) == 0 {
			is.Algorithms = DefaultAlgorithms
		}
		for _, a := range is.Algorithms {
			if !allowedAlgorithms[a] {
				errs = append(errs, fmt.Errorf("auth: issuer %q: algorithm %q is not allowed (%s)", is.Issuer, a, strings.Join(sortedAlgorithms(), ", ")))
			}
		}
		if in := is.Introspection; in != nil && in.URL == "" {
			errs = append(errs, fmt.Errorf("auth: issuer %q: introspection has no URL", is.Issuer))
		}
	}
	for i, c := range o.Classes {
		if !c.Class.Valid() {
			errs = append(errs, fmt.Errorf("auth: class rule %d: unknown class %q", i, c.Class))
		}
	}
	if o.DefaultClass != decision.ClassUnknown && !o.DefaultClass.Valid() {
		errs = append(errs, fmt.Errorf("auth: unknown default class %q", o.DefaultClass))
	}
	return errors.Join(errs...)
}

func sortedAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}
