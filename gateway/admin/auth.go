package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ehigate/ehigate/gateway/auth"
)

// Role is what a credential may do.
type Role uint8

// The roles, weakest first.
const (
	// RoleNone may do nothing.
	RoleNone Role = iota
	// RoleAuditor reads.
	RoleAuditor
	// RoleOfficer reads, releases held requests and marks notices sent.
	RoleOfficer
)

// String returns the role's configuration name.
func (r Role) String() string {
	switch r {
	case RoleAuditor:
		return "auditor"
	case RoleOfficer:
		return "officer"
	}
	return "none"
}

// ParseRole parses "auditor" or "officer".
func ParseRole(s string) (Role, error) {
	switch s {
	case "auditor":
		return RoleAuditor, nil
	case "officer":
		return RoleOfficer, nil
	}
	return RoleNone, fmt.Errorf("admin: unknown role %q (want auditor or officer)", s)
}

// Errors of Identify, matched with errors.Is.
var (
	// ErrNoCredentials: the request carries no bearer token.
	ErrNoCredentials = errors.New("admin: no credentials")
	// ErrBadCredentials: the token is not one of the configured ones, or
	// the JWT did not verify.
	ErrBadCredentials = errors.New("admin: invalid credentials")
	// ErrNoRole: the JWT verified but its role claim maps to no role.
	ErrNoRole = errors.New("admin: the token grants no admin role")
)

// Identity is who made an admin request.
type Identity struct {
	// Name is the token's configured name, or the JWT's subject.
	Name string
	Role Role
	// Via is "token" or "jwt".
	Via string
}

// Token is a bearer token credential: the SHA-256 of the token.
type Token struct {
	Name   string
	Role   Role
	SHA256 [32]byte
}

// JWTOptions accept JWTs of one issuer.
type JWTOptions struct {
	Issuer, JWKSURL, Audience string
	// Algorithms accepted (default: gateway/auth's defaults).
	Algorithms []string
	// RoleClaim names the claim holding the role (dotted for nested
	// claims); its value is a string or a list of strings.
	RoleClaim string
	// Roles maps claim values to roles; the strongest wins.
	Roles map[string]Role
	// HTTPClient fetches the JWKS (default: gateway/auth's).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Credentials identify admin requests. It is safe for concurrent use.
type Credentials struct {
	tokens []Token
	jwt    *auth.Authenticator
	claim  string
	roles  map[string]Role
}

// NewCredentials returns credentials accepting tokens and, when jwtOpts is
// not nil, JWTs (fetching the issuer's JWKS now; ctx bounds its
// refreshes, as does Close).
func NewCredentials(ctx context.Context, tokens []Token, jwtOpts *JWTOptions) (*Credentials, error) {
	c := &Credentials{tokens: tokens}
	for _, t := range tokens {
		if t.Role == RoleNone || t.Name == "" {
			return nil, fmt.Errorf("admin: token %q needs a name and a role", t.Name)
		}
	}
	if j := jwtOpts; j != nil {
		if j.RoleClaim == "" || len(j.Roles) == 0 {
			return nil, errors.New("admin: JWTs need a role claim and the roles its values map to")
		}
		a, err := auth.New(ctx, auth.Options{Mode: auth.ModeVerify, HTTPClient: j.HTTPClient, Logger: j.Logger,
			Issuers: []auth.Issuer{{Issuer: j.Issuer, JWKSURL: j.JWKSURL, Audience: j.Audience, Algorithms: j.Algorithms}}})
		if err != nil {
			return nil, fmt.Errorf("admin: %w", err)
		}
		c.jwt, c.claim, c.roles = a, j.RoleClaim, j.Roles
	}
	return c, nil
}

// Close stops the JWKS refreshes.
func (c *Credentials) Close() error {
	if c != nil && c.jwt != nil {
		return c.jwt.Close()
	}
	return nil
}

// Identify returns who r's bearer token identifies. A token is compared
// by its SHA-256 with every configured one, in constant time; a JWT that
// matches none is verified against the configured issuer.
func (c *Credentials) Identify(r *http.Request) (*Identity, error) {
	tok, ok := bearer(r)
	if !ok {
		return nil, ErrNoCredentials
	}
	if c == nil {
		return nil, ErrBadCredentials
	}
	sum := sha256.Sum256([]byte(tok))
	found := -1
	for i := range c.tokens {
		// Every token is compared, whichever matches.
		if subtle.ConstantTimeCompare(sum[:], c.tokens[i].SHA256[:]) == 1 {
			found = i
		}
	}
	if found >= 0 {
		t := c.tokens[found]
		return &Identity{Name: t.Name, Role: t.Role, Via: "token"}, nil
	}
	if c.jwt == nil || strings.Count(tok, ".") != 2 {
		return nil, ErrBadCredentials
	}
	who, err := c.jwt.Identify(r)
	if err != nil || who.Subject == "" || !who.Verified {
		return nil, ErrBadCredentials
	}
	// Verified: read the role claim from the same token.
	mc := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, mc); err != nil {
		return nil, ErrBadCredentials
	}
	role := RoleNone
	for _, v := range claimValues(mc, c.claim) {
		if r := c.roles[v]; r > role {
			role = r
		}
	}
	if role == RoleNone {
		return &Identity{Name: who.Subject, Via: "jwt"}, ErrNoRole
	}
	return &Identity{Name: who.Subject, Role: role, Via: "jwt"}, nil
}

// bearer returns the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// tokenTag names an unknown token in the journal without keeping it: the
// first 8 hex digits of its SHA-256.
func tokenTag(r *http.Request) string {
	tok, ok := bearer(r)
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:4])
}

// claimValues returns the string values of the claim at a dotted path: a
// string (and its space-separated parts) or a list of strings.
func claimValues(c map[string]any, path string) []string {
	var v any
	if x, ok := c[path]; ok {
		v = x
	} else {
		cur := any(c)
		for part := range strings.SplitSeq(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			if cur, ok = m[part]; !ok {
				return nil
			}
		}
		v = cur
	}
	var out []string
	switch t := v.(type) {
	case string:
		out = append(out, t)
		if f := strings.Fields(t); len(f) > 1 {
			out = append(out, f...)
		}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
