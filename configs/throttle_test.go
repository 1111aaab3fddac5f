package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision/exceptions"
)

// TestDelayThrottleSections covers throttle, holds, upstream_refusals,
// consents and consent_policy: defaults, a full configuration, and each
// problem reported at its file:line.
func TestDelayThrottleSections(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"redis-password": "pw\n", "fetch-headers": "Authorization: Bearer gw\n", "c.json": "{}"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := "public_base_url: https://gw.example/fhir\nupstream: {url: http://127.0.0.1:9/fhir}\n"
	refusal := `upstream_refusals:
  - id: ehr-sunday-maintenance
    version: "1"
    description: The EHR answers 503 during its Sunday night maintenance.
    match: {status: [503], interactions: [search-type, read]}
    exception: health-it-performance.maintenance
    documentation:
      rationale: The vendor patches the EHR weekly.
      decided_by: {name: Sam Patel, role: CISO}
      decided_at: 2026-11-01
      ehi_scope: Every API request during the window.
      minimum_necessary: Two hours a week, announced.
      review_by: 2027-05-01
      evidence: [Vendor SLA v4]
      conditions:
        maintenance_ticket: CHG-2211
        planned: planned
        window_start: 2026-11-08
        window_end: 2027-05-01
        sla: Vendor SLA v4, section 7
`
	full := base + `throttle:
  redis: {url: "redis://cache:6379/0", password_file: redis-password, timeout: 20ms}
holds: {release_interval: 5s, keep: 48h, max_response: 8MiB}
consents: [c.json]
consents_fetch: {interval: 15m, headers_file: fetch-headers}
consent_policy:
  not_induced: Staff follow script HIM-7, which does not suggest restrictions.
  termination: In writing, or orally documented by staff.
  notice: {message: The patient asked that this not be shared with you., next_step: Ask the patient., contact: him@example.org}
  disclose_withholding: false
  actors:
    - {reference: Organization/acme, client_id: [acme-app]}
` + refusal
	tests := []struct {
		name    string
		yaml    string
		wantErr []string // "line: path: text" fragments
		check   func(t *testing.T, c *Config)
	}{
		{name: "defaults", yaml: base, check: func(t *testing.T, c *Config) {
			if c.Throttle.Redis.Enabled() || c.Throttle.Redis.Timeout != 50*time.Millisecond || c.Holds.Keep != 7*24*time.Hour ||
				c.Holds.ReleaseInterval != 15*time.Second || c.Holds.MaxResponse != 64<<20 || c.Holds.KeepFinished != 90*24*time.Hour || c.UsesConsents() {
				t.Errorf("defaults: %+v %+v", c.Throttle, c.Holds)
			}
		}},
		{name: "full", yaml: full, check: func(t *testing.T, c *Config) {
			r := c.Throttle.Redis
			if pw, err := r.ReadPassword(); err != nil || pw != "pw" || r.Timeout != 20*time.Millisecond || !r.Enabled() {
				t.Errorf("redis %+v %q %v", r, pw, err)
			}
			if c.Holds.MaxResponse != 8<<20 || c.Holds.Keep != 48*time.Hour {
				t.Errorf("holds %+v", c.Holds)
			}
			if c.ConsentsFetch.Query != DefaultConsentQuery || c.ConsentPolicy.Disclose() || !c.UsesConsents() {
				t.Errorf("consents %+v %+v", c.ConsentsFetch, c.ConsentPolicy)
			}
			if h, err := c.ConsentsFetch.ConsentHeaders(); err != nil || h["Authorization"][0] != "Bearer gw" {
				t.Errorf("headers %v %v", h, err)
			}
			cat, _ := exceptions.Load()
			set, err := c.RefusalPolicies(cat)
			if err != nil || len(set.Policies()) != 1 {
				t.Fatalf("refusal policies: %v", err)
			}
			ref := set.Policies()[0].Ref()
			if ref.ID != "ehr-sunday-maintenance" || ref.SHA256 == "" || ref.Exception != "health-it-performance.maintenance" {
				t.Errorf("refusal ref %+v", ref)
			}
		}},
		{name: "bad redis", yaml: base + "throttle:\n  redis:\n    url: http://cache\n    timeout: 0s\n    password_file: missing\n",
			wantErr: []string{"5: throttle.redis.url: want a redis://", "6: throttle.redis.timeout: must be positive", "7: throttle.redis.password_file: cannot read"}},
		{name: "bad holds", yaml: base + "holds:\n  keep: 1s\n  release_interval: 1ms\n",
			wantErr: []string{"4: holds.keep: must be at least 1m", "5: holds.release_interval: must be at least 1s"}},
		{name: "finished holds pruned before collection", yaml: base + "holds:\n  keep: 7d\n  keep_finished: 1d\n",
			wantErr: []string{"5: holds.keep_finished: must be 0 (keep) or at least holds.keep"}},
		{name: "consents need their policy", yaml: base + "consents: [c.json, nope.json]\n",
			wantErr: []string{"3: consents[1]: cannot read", "consent_policy.not_induced: is required with consents", "consent_policy.notice.contact: is required"}},
		{name: "bad fetch and actors", yaml: base + `consents_fetch: {interval: 1s, query: "Patient?x=1"}
consent_policy:
  not_induced: a
  termination: b
  notice: {message: m, next_step: n, contact: c}
  actors:
    - {reference: acme}
`, wantErr: []string{"3: consents_fetch.interval: must be at least 1m", "3: consents_fetch.query: want a Consent search",
			"9: consent_policy.actors[0].reference: want a reference", "consent_policy.actors[0]: names no requester"}},
		{name: "refusal match", yaml: base + strings.Replace(refusal, "match: {status: [503], interactions: [search-type, read]}",
			"match: {status: [200], issue_codes: [nope], resource_types: [Nope]}", 1),
			wantErr: []string{"7: upstream_refusals[0].match.status[0]: want an HTTP error status", "7: upstream_refusals[0].match.issue_codes[0]: not an R4 issue type",
				"7: upstream_refusals[0].match.resource_types[0]: not an R4 resource type"}},
		{name: "refusal documentation checked as a policy's", yaml: base + strings.NewReplacer(
			"      rationale: The vendor patches the EHR weekly.\n", "",
			"exception: health-it-performance.maintenance", "exception: health-it-performance").Replace(refusal),
			wantErr: []string{"upstream_refusals[0].exception: health-it-performance has sub-conditions"}},
		{name: "refusal documentation fields", yaml: base + strings.NewReplacer(
			"      rationale: The vendor patches the EHR weekly.\n", "",
			"        maintenance_ticket: CHG-2211\n", "").Replace(refusal),
			wantErr: []string{"9: upstream_refusals[0].documentation.rationale: is required", "upstream_refusals[0].documentation.conditions.maintenance_ticket: is required"}},
		{name: "refusal interaction names", yaml: base + strings.Replace(refusal, "interactions: [search-type, read]", "interactions: [searchy]", 1),
			wantErr: []string{"7: upstream_refusals[0].match.interactions"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "ehigate.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(file)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, c)
				return
			}
			var ps yamlx.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err %v, want problems", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}
