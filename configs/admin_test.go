package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/configs/yamlx"
)

func TestAdminSection(t *testing.T) {
	dir := t.TempDir()
	sum := sha256.Sum256([]byte("secret-token"))
	hash := hex.EncodeToString(sum[:])
	other := sha256.Sum256([]byte("other-token"))
	for name, body := range map[string]string{
		"bob.sha256":   hash + "\n",
		"admin-tokens": "# name role sha256\n\ncarol officer " + hex.EncodeToString(other[:]) + "\n",
		"cert.pem":     "x", "key.pem": "x",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := "public_base_url: https://gw.example/fhir\nupstream: {url: http://127.0.0.1:9/fhir}\n"
	tests := []struct {
		name string
		yaml string
		// problems are "line: key" of each problem expected.
		problems []string
	}{
		{"defaults", "", nil},
		{"full", `admin:
  listen: "127.0.0.1:9443"
  base_url: https://admin.example:9443
  tls: {cert_file: cert.pem, key_file: key.pem}
  tokens:
    - {name: alice, role: officer, sha256: ` + hash + `}
    - {name: bob, role: auditor, token_file: bob.sha256}
  tokens_file: admin-tokens
  jwt:
    issuer: https://idp.example/realms/staff
    jwks_url: https://idp.example/realms/staff/certs
    audience: ehigate-admin
    role_claim: realm_access.roles
    roles: {compliance-auditor: auditor, compliance-officer: officer}
`, nil},
		{"off", "admin: {listen: \"\"}\n", nil},
		{"problems", `admin:
  listen: nine
  tls: {cert_file: cert.pem}
  tokens:
    - {name: alice, role: boss, sha256: abc}
    - {name: alice, role: auditor}
    - {name: "", role: auditor, sha256: ` + hash + `, token_file: bob.sha256}
  tokens_file: missing
  jwt: {issuer: "", jwks_url: "ftp://x", role_claim: "", roles: {x: root}, algorithms: [HS256]}
`, []string{"4: admin.listen", "5: admin.tls", "7: admin.tokens[0].role", "7: admin.tokens[0].sha256", "8: admin.tokens[1].name",
			"8: admin.tokens[1]", "9: admin.tokens[2].name", "9: admin.tokens[2]", "10: admin.tokens_file", "11: admin.jwt.issuer",
			"11: admin.jwt.jwks_url", "11: admin.jwt.audience", "11: admin.jwt.role_claim", "11: admin.jwt.roles.x", "11: admin.jwt.algorithms[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "ehigate.yaml")
			cfg, err := Parse(file, []byte(base+tc.yaml))
			var ps yamlx.Problems
			if tc.problems == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want problems", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, strconv.Itoa(p.Line)+": "+p.Path)
			}
			slices.Sort(got)
			slices.Sort(tc.problems)
			if strings.Join(got, ", ") != strings.Join(tc.problems, ", ") {
				t.Errorf("problems:\n%v\nwant\n%v\n(%v)", got, tc.problems, err)
			}
			if cfg == nil {
				return
			}
			switch tc.name {
			case "defaults":
				if cfg.Admin.Listen != ":9090" || cfg.Admin.JWT != nil {
					t.Errorf("defaults: %+v", cfg.Admin)
				}
			case "full":
				creds, err := cfg.Admin.Credentials()
				if err != nil {
					t.Fatal(err)
				}
				if len(creds) != 3 || creds[0].Name != "alice" || creds[1].SHA256 != sum || creds[1].Role != RoleAuditor ||
					creds[2].Name != "carol" || creds[2].SHA256 != other || creds[2].Role != RoleOfficer {
					t.Errorf("credentials %+v", creds)
				}
				if !cfg.Admin.TLS.Enabled() || !filepath.IsAbs(cfg.Admin.TLS.KeyFile) {
					t.Errorf("tls %+v", cfg.Admin.TLS)
				}
			}
		})
	}
}

func TestParseAdminTokens(t *testing.T) {
	h := strings.Repeat("ab", 32)
	tests := []struct {
		name, in string
		want     int
		err      string
	}{
		{"lines and comments", "# x\n a officer " + h + " \n\nb auditor " + strings.ToUpper(h) + "\n", 2, ""},
		{"a raw token is refused", "0123456789abcdef0123\n", 0, "line 1: want NAME ROLE SHA256"},
		{"bad role", "a root " + h, 0, "line 1: want role"},
		{"bad hash", "a auditor 1234", 0, "line 1: configs: want the hex SHA-256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAdminTokens([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

// FuzzParseAdminTokens: the tokens file is mounted from a Secret.
func FuzzParseAdminTokens(f *testing.F) {
	f.Add([]byte("alice officer " + strings.Repeat("0f", 32) + "\n# c\n"))
	f.Add([]byte("0123456789abcdef0123\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		creds, err := ParseAdminTokens(data)
		if err != nil {
			return
		}
		for _, c := range creds {
			if !validRole(c.Role) || c.Name == "" || strings.ContainsAny(c.Name, " \t\n") {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}
