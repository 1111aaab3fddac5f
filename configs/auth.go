package configs

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/gateway/auth"
)

// Auth configures how requesters are identified from their bearer tokens
// and how their SMART scopes are enforced.
type Auth struct {
	// Mode is off (anonymous requesters), verify (the gateway verifies
	// tokens) or passthrough (the EHR does; identity is read unverified).
	Mode string `yaml:"mode"`
	// Issuers are the authorization servers whose tokens are accepted.
	Issuers []AuthIssuer `yaml:"issuers"`
	// Leeway is allowed on exp, nbf and iat (at most 5m).
	Leeway time.Duration `yaml:"leeway"`
	// MaxTokenBytes bounds a token; a larger one is refused (401).
	MaxTokenBytes ByteSize `yaml:"max_token_bytes"`
	// AllowQueryToken accepts access_token in the query string.
	AllowQueryToken bool `yaml:"allow_query_token"`
	// Classes assign requester classes; the first rule that matches wins.
	Classes []ClassRule `yaml:"classes"`
	// DefaultClass is the class when no rule matches.
	DefaultClass string `yaml:"default_class"`
	// PurposeClaims name the claims holding the purpose of use.
	PurposeClaims []string `yaml:"purpose_claims"`
	// EnforceScopes checks requests against SMART scopes (default: true in
	// verify mode, false otherwise).
	EnforceScopes *bool `yaml:"enforce_scopes"`
	// ScopeDenialException is the exception code recorded on scope denials.
	ScopeDenialException string `yaml:"scope_denial_exception"`
	// SmartConfiguration is "proxy" (the default) or a JSON file served as
	// [base]/.well-known/smart-configuration.
	SmartConfiguration string `yaml:"smart_configuration"`
}

// AuthIssuer is one authorization server.
type AuthIssuer struct {
	// Issuer is the exact iss claim of its tokens.
	Issuer string `yaml:"issuer"`
	// JWKSURL publishes its signing keys.
	JWKSURL string `yaml:"jwks_url"`
	// Audience must be among a token's aud (default: public_base_url).
	Audience string `yaml:"audience"`
	// Algorithms are the accepted JWS algorithms.
	Algorithms []string `yaml:"algorithms"`
	// Introspection is its RFC 7662 endpoint, for opaque tokens.
	Introspection *Introspection `yaml:"introspection"`
}

// Introspection is an RFC 7662 token introspection endpoint.
type Introspection struct {
	URL string `yaml:"url"`
	// ClientID and the secret in ClientSecretFile authenticate the gateway.
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
}

// ClassRule assigns Class to requesters that meet When.
type ClassRule struct {
	Class string    `yaml:"class"`
	When  ClassWhen `yaml:"when"`
}

// ClassWhen are the conditions of a class rule; all that are set must hold.
type ClassWhen struct {
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// Claims maps claim names (dotted for nested claims) to a value or a
	// list of accepted values.
	Claims map[string]yaml.Node `yaml:"claims"`
}

// The auth modes.
const (
	AuthOff         = "off"
	AuthVerify      = "verify"
	AuthPassthrough = "passthrough"
)

// SmartConfigurationProxy is the smart_configuration value that proxies
// the EHR's document.
const SmartConfigurationProxy = "proxy"

func defaultAuth() Auth {
	return Auth{Mode: AuthOff, Leeway: auth.DefaultLeeway, MaxTokenBytes: auth.DefaultMaxTokenBytes}
}

// Enforce reports whether SMART scopes are enforced.
func (a *Auth) Enforce() bool {
	if a.EnforceScopes != nil {
		return *a.EnforceScopes
	}
	return a.Mode == AuthVerify
}

// ClaimValues returns the accepted values of each claim condition.
func (w *ClassWhen) ClaimValues() map[string][]string {
	if len(w.Claims) == 0 {
		return nil
	}
	out := make(map[string][]string, len(w.Claims))
	for name, n := range w.Claims {
		out[name], _ = scalars(&n)
	}
	return out
}

// scalars reads a scalar or a list of scalars.
func scalars(n *yaml.Node) ([]string, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, true
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, false
			}
			out = append(out, e.Value)
		}
		return out, len(out) > 0
	}
	return nil, false
}

// ReadClientSecret reads the introspection client secret (trailing
// newlines and spaces removed).
func (in *Introspection) ReadClientSecret() (string, error) {
	if in.ClientSecretFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(in.ClientSecretFile)
	if err != nil {
		return "", fmt.Errorf("configs: introspection client secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SmartConfigurationDocument returns the configured SMART configuration
// document, or nil when the EHR's is proxied.
func (a *Auth) SmartConfigurationDocument() ([]byte, error) {
	if a.SmartConfiguration == "" || a.SmartConfiguration == SmartConfigurationProxy {
		return nil, nil
	}
	b, err := os.ReadFile(a.SmartConfiguration)
	if err != nil {
		return nil, fmt.Errorf("configs: smart configuration: %w", err)
	}
	return b, nil
}

func (a *Auth) resolvePaths(abs func(string) string) {
	if a.SmartConfiguration != SmartConfigurationProxy {
		a.SmartConfiguration = abs(a.SmartConfiguration)
	}
	for i := range a.Issuers {
		if in := a.Issuers[i].Introspection; in != nil {
			in.ClientSecretFile = abs(in.ClientSecretFile)
		}
	}
}

// validateAuth checks the auth section and fills each issuer's default
// audience.
func (c *Config) validateAuth() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	a := &c.Auth
	if !oneOf(a.Mode, AuthOff, AuthVerify, AuthPassthrough) {
		add("auth.mode", "want off, verify or passthrough, got %q", a.Mode)
	}
	if a.Leeway < 0 || a.Leeway > auth.MaxLeeway {
		add("auth.leeway", "must be between 0s and %s", auth.MaxLeeway)
	}
	if a.MaxTokenBytes < 1<<10 || a.MaxTokenBytes > 1<<20 {
		add("auth.max_token_bytes", "must be between 1KiB and 1MiB")
	}
	if a.Mode == AuthVerify && len(a.Issuers) == 0 {
		add("auth.issuers", "at least one issuer is required in verify mode")
	}
	seen := map[string]bool{}
	for i := range a.Issuers {
		c.validateIssuer(&ps, i, seen)
	}
	for i, r := range a.Classes {
		p := fmt.Sprintf("auth.classes[%d]", i)
		if !decision.Class(r.Class).Valid() {
			add(p+".class", "want one of %s, got %q", classNames(), r.Class)
		}
		for name, n := range r.When.Claims {
			if name == "" {
				add(p+".when.claims", "a claim name is empty")
			}
			if _, ok := scalars(&n); !ok {
				add(p+".when.claims."+name, "want a value or a list of values")
			}
		}
	}
	if a.DefaultClass != "" && !decision.Class(a.DefaultClass).Valid() {
		add("auth.default_class", "want one of %s, got %q", classNames(), a.DefaultClass)
	}
	for i, n := range a.PurposeClaims {
		if strings.TrimSpace(n) == "" {
			add(fmt.Sprintf("auth.purpose_claims[%d]", i), "must not be empty")
		}
	}
	if a.Mode == AuthOff && a.Enforce() {
		add("auth.enforce_scopes", "needs auth.mode verify or passthrough: without tokens there are no scopes")
	}
	if c.Doc.Has("auth.scope_denial_exception") && strings.TrimSpace(a.ScopeDenialException) == "" {
		add("auth.scope_denial_exception", "must not be empty when set")
	}
	if s := a.SmartConfiguration; s != "" && s != SmartConfigurationProxy {
		var doc map[string]any
		if b, err := os.ReadFile(s); err != nil {
			add("auth.smart_configuration", "cannot read %s: %v", s, unwrapPath(err))
		} else if json.Unmarshal(b, &doc) != nil {
			add("auth.smart_configuration", "%s is not a JSON object", s)
		}
	}
	return ps
}

func (c *Config) validateIssuer(ps *yamlx.Problems, i int, seen map[string]bool) {
	is := &c.Auth.Issuers[i]
	p := fmt.Sprintf("auth.issuers[%d]", i)
	add := func(path, format string, args ...any) { c.Doc.Add(ps, path, format, args...) }
	switch {
	case is.Issuer == "":
		add(p+".issuer", "is required (the exact iss claim of its tokens)")
	case seen[is.Issuer]:
		add(p+".issuer", "%q is listed twice", is.Issuer)
	}
	seen[is.Issuer] = true
	if is.JWKSURL != "" {
		if err := checkHTTPURL(is.JWKSURL); err != nil {
			add(p+".jwks_url", "%v", err)
		}
	} else if c.Auth.Mode == AuthVerify && is.Introspection == nil {
		add(p, "needs jwks_url or introspection to verify its tokens")
	}
	if is.Audience == "" {
		is.Audience = c.PublicBaseURL
	}
	for j, alg := range is.Algorithms {
		ap := fmt.Sprintf("%s.algorithms[%d]", p, j)
		switch {
		case strings.HasPrefix(strings.ToUpper(alg), "HS"):
			add(ap, "%s is never allowed: with keys from a JWKS, a public key would serve as the HMAC secret", alg)
		case strings.EqualFold(alg, "none"):
			add(ap, "unsigned tokens are never allowed")
		case !auth.AlgorithmAllowed(alg):
			add(ap, "want one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA; got %q", alg)
		}
	}
	in := is.Introspection
	if in == nil {
		return
	}
	if err := checkHTTPURL(in.URL); err != nil {
		add(p+".introspection.url", "%v", err)
	}
	if (in.ClientID == "") != (in.ClientSecretFile == "") {
		add(p+".introspection", "set both client_id and client_secret_file, or neither")
	}
	if in.ClientSecretFile != "" {
		if _, err := os.Stat(in.ClientSecretFile); err != nil {
			add(p+".introspection.client_secret_file", "cannot read %s: %v", in.ClientSecretFile, unwrapPath(err))
		}
	}
}

// checkHTTPURL checks an absolute http(s) URL.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an absolute http(s) URL, got %q", s)
	}
	return nil
}

func classNames() string {
	names := make([]string, len(decision.Classes))
	for i, c := range decision.Classes {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
