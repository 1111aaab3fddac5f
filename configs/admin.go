package configs

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/gateway/auth"
)

// The admin roles. An officer may do everything an auditor may, and also
// release held requests and mark written responses sent.
const (
	RoleAuditor = "auditor"
	RoleOfficer = "officer"
)

// Admin configures the admin listener: health probes, metrics, and the
// compliance API with its own credentials.
type Admin struct {
	// Listen is the admin listener's address (default ":9090"; empty: no
	// admin listener).
	Listen string `yaml:"listen"`
	// BaseURL is the admin listener's URL as its clients reach it, for
	// the absolute links it writes (default: from each request's Host).
	BaseURL string `yaml:"base_url"`
	// TLS serves the admin listener over TLS (recommended).
	TLS AdminTLS `yaml:"tls"`
	// Tokens are bearer tokens, each stored as its SHA-256.
	Tokens []AdminToken `yaml:"tokens"`
	// TokensFile holds more tokens, one per line: NAME ROLE SHA256 (the
	// hex SHA-256 of the token, as `ehigate admin hash-token` prints it).
	TokensFile string `yaml:"tokens_file"`
	// JWT accepts JWTs of one issuer, their role read from a claim.
	JWT *AdminJWT `yaml:"jwt"`
}

// AdminTLS is the admin listener's certificate.
type AdminTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether TLS is configured.
func (t AdminTLS) Enabled() bool { return t.CertFile != "" }

// AdminToken is one bearer token of the compliance API.
type AdminToken struct {
	// Name identifies who holds it; it is recorded with every request.
	Name string `yaml:"name"`
	// Role is auditor or officer.
	Role string `yaml:"role"`
	// SHA256 is the hex SHA-256 of the token (never the token itself).
	SHA256 string `yaml:"sha256"`
	// TokenFile holds the hex SHA-256 instead of SHA256.
	TokenFile string `yaml:"token_file"`
}

// AdminJWT accepts JWTs from one issuer, verified against its JWKS as the
// gateway verifies requesters' tokens.
type AdminJWT struct {
	Issuer   string `yaml:"issuer"`
	JWKSURL  string `yaml:"jwks_url"`
	Audience string `yaml:"audience"`
	// Algorithms are the JWS algorithms accepted (default RS256, RS384,
	// ES256, ES384).
	Algorithms []string `yaml:"algorithms"`
	// RoleClaim names the claim holding the role (dotted for a nested
	// claim, e.g. realm_access.roles); a string or a list of strings.
	RoleClaim string `yaml:"role_claim"`
	// Roles maps claim values to auditor or officer; the strongest role
	// a token's values map to wins.
	Roles map[string]string `yaml:"roles"`
}

// AdminCredential is a token credential ready to compare.
type AdminCredential struct {
	Name, Role string
	SHA256     [32]byte
}

func defaultAdmin() Admin { return Admin{Listen: ":9090"} }

func (a *Admin) resolvePaths(abs func(string) string) {
	a.TLS.CertFile, a.TLS.KeyFile = abs(a.TLS.CertFile), abs(a.TLS.KeyFile)
	a.TokensFile = abs(a.TokensFile)
	for i := range a.Tokens {
		a.Tokens[i].TokenFile = abs(a.Tokens[i].TokenFile)
	}
}

func validRole(r string) bool { return r == RoleAuditor || r == RoleOfficer }

func (c *Config) validateAdmin() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	a := &c.Admin
	if a.Listen != "" {
		if _, _, err := net.SplitHostPort(a.Listen); err != nil {
			add("admin.listen", "want host:port (e.g. :9090), or empty for no admin listener, got %q", a.Listen)
		}
	}
	if a.BaseURL != "" {
		if err := checkBaseURL(a.BaseURL); err != nil {
			add("admin.base_url", "%v", err)
		}
	}
	if (a.TLS.CertFile == "") != (a.TLS.KeyFile == "") {
		add("admin.tls", "set both cert_file and key_file, or neither")
	}
	for path, f := range map[string]string{"admin.tls.cert_file": a.TLS.CertFile, "admin.tls.key_file": a.TLS.KeyFile, "admin.tokens_file": a.TokensFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				add(path, "cannot read %s: %v", f, unwrapPath(err))
			}
		}
	}
	names := map[string]bool{}
	for i, t := range a.Tokens {
		p := fmt.Sprintf("admin.tokens[%d]", i)
		switch {
		case strings.TrimSpace(t.Name) == "":
			add(p+".name", "is required (who holds the token; recorded with each request)")
		case strings.ContainsAny(t.Name, " \t\r\n"):
			add(p+".name", "must not contain white space, got %q", t.Name)
		case names[t.Name]:
			add(p+".name", "%q is listed twice", t.Name)
		}
		names[t.Name] = true
		if !validRole(t.Role) {
			add(p+".role", "want auditor or officer, got %q", t.Role)
		}
		switch {
		case (t.SHA256 == "") == (t.TokenFile == ""):
			add(p, "set sha256 (the hex SHA-256 of the token: ehigate admin hash-token) or token_file, not both")
		case t.SHA256 != "":
			if _, err := parseTokenHash(t.SHA256); err != nil {
				add(p+".sha256", "%v", err)
			}
		default:
			if _, err := os.Stat(t.TokenFile); err != nil {
				add(p+".token_file", "cannot read %s: %v", t.TokenFile, unwrapPath(err))
			}
		}
	}
	if j := a.JWT; j != nil {
		if j.Issuer == "" {
			add("admin.jwt.issuer", "is required (the exact iss claim of the tokens)")
		}
		if err := checkHTTPURL(j.JWKSURL); err != nil {
			add("admin.jwt.jwks_url", "%v", err)
		}
		if j.Audience == "" {
			add("admin.jwt.audience", "is required (a value the tokens' aud must hold)")
		}
		if strings.TrimSpace(j.RoleClaim) == "" {
			add("admin.jwt.role_claim", "is required (the claim holding the role)")
		}
		if len(j.Roles) == 0 {
			add("admin.jwt.roles", "map at least one claim value to auditor or officer")
		}
		for v, r := range j.Roles {
			if !validRole(r) {
				add("admin.jwt.roles."+v, "want auditor or officer, got %q", r)
			}
		}
		for i, alg := range j.Algorithms {
			if !auth.AlgorithmAllowed(alg) {
				add(fmt.Sprintf("admin.jwt.algorithms[%d]", i), "want one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA; got %q", alg)
			}
		}
	}
	return ps
}

// ErrTokenHash: a token hash is not 64 hex digits.
var ErrTokenHash = errors.New("configs: want the hex SHA-256 of the token (64 hex digits; ehigate admin hash-token prints it)")

func parseTokenHash(s string) ([32]byte, error) {
	var h [32]byte
	s = strings.TrimSpace(s)
	if len(s) != 64 {
		return h, ErrTokenHash
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, ErrTokenHash
	}
	return h, nil
}

// Credentials returns the token credentials: admin.tokens, reading each
// token_file, then the lines of admin.tokens_file.
func (a *Admin) Credentials() ([]AdminCredential, error) {
	var out []AdminCredential
	for _, t := range a.Tokens {
		s := t.SHA256
		if t.TokenFile != "" {
			b, err := os.ReadFile(t.TokenFile)
			if err != nil {
				return nil, fmt.Errorf("configs: admin token %s: %w", t.Name, err)
			}
			s = string(b)
		}
		h, err := parseTokenHash(s)
		if err != nil {
			return nil, fmt.Errorf("admin token %s: %w", t.Name, err)
		}
		out = append(out, AdminCredential{Name: t.Name, Role: t.Role, SHA256: h})
	}
	if a.TokensFile != "" {
		b, err := os.ReadFile(a.TokensFile)
		if err != nil {
			return nil, fmt.Errorf("configs: admin.tokens_file: %w", err)
		}
		more, err := ParseAdminTokens(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.TokensFile, err)
		}
		out = append(out, more...)
	}
	seen := map[string]bool{}
	for _, c := range out {
		if seen[c.Name] {
			return nil, fmt.Errorf("configs: admin token name %q is used twice", c.Name)
		}
		seen[c.Name] = true
	}
	return out, nil
}

// ParseAdminTokens reads a tokens file: one credential per line, NAME ROLE
// SHA256 separated by white space; blank lines and lines starting with #
// are ignored.
func ParseAdminTokens(data []byte) ([]AdminCredential, error) {
	var out []AdminCredential
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("configs: line %d: want NAME ROLE SHA256 (the token's hex SHA-256, never the token)", n)
		}
		if !validRole(f[1]) {
			return nil, fmt.Errorf("configs: line %d: want role auditor or officer, got %q", n, f[1])
		}
		h, err := parseTokenHash(f[2])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, AdminCredential{Name: f[0], Role: f[1], SHA256: h})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	return out, nil
}
