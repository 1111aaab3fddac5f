package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
)

func TestAuthSection(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"secret.txt": "s3cret\n", "smart.json": `{"token_endpoint":"https://as.example/token"}`, "bad.json": "[1,2]"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := "public_base_url: https://gw.example/fhir\nupstream: {url: http://127.0.0.1:9/fhir}\n"
	verify := base + `auth:
  mode: verify
  issuers:
    - issuer: https://as.example
      jwks_url: https://as.example/jwks
    - issuer: https://as2.example
      audience: https://gw.example/api
      algorithms: [ES384]
      introspection: {url: https://as2.example/introspect, client_id: gw, client_secret_file: secret.txt}
  leeway: 1m
  max_token_bytes: 8KiB
  classes:
    - class: patient
      when: {claims: {scope: launch/patient}}
    - class: payer
      when: {issuer: https://as2.example, client_id: payer-1, claims: {org: [a, b]}}
  default_class: app
  purpose_claims: [purpose_of_use]
  scope_denial_exception: security.organizational-policy
  smart_configuration: smart.json
`
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, c *Config)
	}{
		{name: "defaults: off", yaml: base, check: func(t *testing.T, c *Config) {
			a := c.Auth
			if a.Mode != AuthOff || a.Enforce() || a.Leeway != 30*time.Second || a.MaxTokenBytes != 16<<10 || a.AllowQueryToken {
				t.Errorf("defaults %+v", a)
			}
			if doc, err := a.SmartConfigurationDocument(); doc != nil || err != nil {
				t.Errorf("smart configuration %s %v", doc, err)
			}
		}},
		{name: "verify", yaml: verify, check: func(t *testing.T, c *Config) {
			a := c.Auth
			if !a.Enforce() || a.Leeway != time.Minute || a.MaxTokenBytes != 8<<10 {
				t.Errorf("auth %+v", a)
			}
			if a.Issuers[0].Audience != "https://gw.example/fhir" || a.Issuers[1].Audience != "https://gw.example/api" {
				t.Errorf("audiences %q %q", a.Issuers[0].Audience, a.Issuers[1].Audience)
			}
			if s, err := a.Issuers[1].Introspection.ReadClientSecret(); s != "s3cret" || err != nil {
				t.Errorf("secret %q %v", s, err)
			}
			if doc, err := a.SmartConfigurationDocument(); err != nil || !strings.Contains(string(doc), "token_endpoint") {
				t.Errorf("smart configuration %s %v", doc, err)
			}
			want := map[string][]string{"org": {"a", "b"}}
			if got := a.Classes[1].When.ClaimValues(); !reflect.DeepEqual(got, want) {
				t.Errorf("claims %v", got)
			}
		}},
		{name: "passthrough does not enforce by default", yaml: base + "auth: {mode: passthrough}\n", check: func(t *testing.T, c *Config) {
			if c.Auth.Enforce() {
				t.Error("enforces")
			}
		}},
		{name: "passthrough may enforce", yaml: base + "auth: {mode: passthrough, enforce_scopes: true}\n", check: func(t *testing.T, c *Config) {
			if !c.Auth.Enforce() {
				t.Error("does not enforce")
			}
		}},
		{name: "verify without issuers", yaml: base + "auth: {mode: verify}\n", wantErr: []string{"ehigate.yaml:3: auth.issuers: at least one issuer"}},
		{name: "bad mode and bounds", yaml: base + "auth: {mode: maybe, leeway: 10m, max_token_bytes: 10MiB}\n",
			wantErr: []string{"auth.mode: want off, verify or passthrough", "auth.leeway: must be between", "auth.max_token_bytes"}},
		{name: "enforce without tokens", yaml: base + "auth: {enforce_scopes: true}\n", wantErr: []string{"auth.enforce_scopes: needs auth.mode"}},
		{name: "bad issuers", yaml: base + `auth:
  mode: verify
  issuers:
    - jwks_url: ftp://x
      algorithms: [HS256, none, RS999]
    - issuer: https://a
    - issuer: https://a
      jwks_url: https://a/jwks
      introspection: {url: https://a/i, client_secret_file: missing.txt}
`, wantErr: []string{
			"ehigate.yaml:6: auth.issuers[0].issuer: is required",
			"auth.issuers[0].jwks_url: want an absolute http(s) URL",
			"auth.issuers[0].algorithms[0]: HS256 is never allowed",
			"auth.issuers[0].algorithms[1]: unsigned tokens are never allowed",
			"auth.issuers[0].algorithms[2]: want one of",
			"ehigate.yaml:8: auth.issuers[1]: needs jwks_url or introspection",
			"auth.issuers[2].issuer: \"https://a\" is listed twice",
			"auth.issuers[2].introspection: set both client_id and client_secret_file",
			"auth.issuers[2].introspection.client_secret_file: cannot read",
		}},
		{name: "bad classes", yaml: base + `auth:
  mode: passthrough
  classes:
    - class: admin
    - class: patient
      when: {claims: {x: {a: b}}}
  default_class: nobody
  purpose_claims: [""]
  scope_denial_exception: ""
  smart_configuration: bad.json
`, wantErr: []string{
			"auth.classes[0].class: want one of patient",
			"auth.classes[1].when.claims.x: want a value or a list",
			"auth.default_class",
			"auth.purpose_claims[0]",
			"auth.scope_denial_exception: must not be empty",
			"auth.smart_configuration: ",
		}},
		{name: "unknown key", yaml: base + "auth: {mode: verify, issuers: [{issuer: x, jwks_uri: y}]}\n", wantErr: []string{"auth.issuers[0].jwks_uri: unknown key (did you mean \"jwks_url\"?)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(filepath.Join(dir, "ehigate.yaml"), []byte(tc.yaml))
			if len(tc.wantErr) > 0 {
				if !errors.Is(err, yamlx.ErrInvalid) {
					t.Fatalf("err = %v, want problems", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
