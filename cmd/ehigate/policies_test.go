package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
)

// writeConfig writes a configuration using the given policy paths.
func writeConfig(t *testing.T, dir string, policies ...string) string {
	t.Helper()
	var ps []string
	for _, p := range policies {
		ps = append(ps, fmt.Sprintf("%q", p))
	}
	text := fmt.Sprintf(`listen: "127.0.0.1:0"
public_base_url: "http://127.0.0.1:1/fhir"
upstream:
  url: "http://127.0.0.1:2/fhir"
store:
  sqlite:
    path: records.db
journal:
  chain: test
policies: [%s]
notices:
  time_zone: America/New_York
log:
  level: error
`, strings.Join(ps, ", "))
	f := filepath.Join(dir, "ehigate.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func examples(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "configs", "policies"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`policies:
  - id: quiet-deny
    version: "1"
    description: a restriction nobody documented
    action: deny
    match: {requester: {class: [payer]}}
`), 0o600)
	// A policy folder with Consents: one valid (but no consent_policy to
	// enforce it with), one that does not parse.
	consents := filepath.Join(dir, "with-consents")
	os.MkdirAll(consents, 0o700)
	exampleFiles, _ := filepath.Glob(filepath.Join(examples(t), "*.yaml"))
	for _, f := range exampleFiles {
		data, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(consents, filepath.Base(f)), data, 0o600)
	}
	os.WriteFile(filepath.Join(consents, "p9.json"), []byte(`{"resourceType":"Consent","id":"p9","status":"active","patient":{"reference":"Patient/p9"},"dateTime":"2026-10-12",
		"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`), 0o600)
	os.WriteFile(filepath.Join(consents, "broken.json"), []byte(`{"resourceType":"Consent",`), 0o600)
	withConsents := writeConfig(t, t.TempDir(), consents)
	tests := []struct {
		name     string
		config   string
		code     int
		contains []string
	}{
		{"Consents in the policy folder", withConsents, 1, []string{
			filepath.Join(consents, "broken.json") + ": not JSON",
			"consent_policy: 1 Consents were found in the policy folders, but consent_policy is not configured",
		}},
		{"examples", writeConfig(t, dir, examples(t)), 0, []string{"ok: ", "7 policies", "policy set "}},
		{"undocumented restriction", writeConfig(t, t.TempDir(), bad), 1, []string{
			bad + ":2: policies[0].exception: is required",
			bad + ":2: policies[0].documentation.rationale: is required",
			bad + ":2: policies[0].notice.message: is required",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"check", "--config", tc.config}, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out.String(), errb.String())
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

func TestExceptionsCommand(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"exceptions"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range []string{"infeasibility.segmentation", "45 CFR 171.204(a)(2)", "10 business days", "tefca-manner", "at_risk", "required-by-law"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("listing lacks %s", s)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"exceptions", "--code", "preventing-harm.individualized-determination"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range []string{"clinician_patient_relationship", "licensed health care professional", "171.201(c)(1)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("entry lacks %s:\n%s", s, out.String())
		}
	}
}

// TestPolicySetLifecycle runs the gateway's policy wiring: the set is
// journaled once per hash, a changed text under an old version stops the
// gateway from starting, a denial citing infeasibility opens a notice
// item, and notices / notices sent list and close it.
func TestPolicySetLifecycle(t *testing.T) {
	dir := t.TempDir()
	pfile := filepath.Join(dir, "deny.yaml")
	text := `policies:
  - id: no-legacy-docs
    version: "1"
    description: Legacy documents cannot be segmented.
    action: deny
    exception: infeasibility.segmentation
    match: {resource_types: [DocumentReference]}
    documentation:
      rationale: mixed scans
      decided_by: {name: Luis Ortega, role: HIM director}
      decided_at: 2026-08-15
      ehi_scope: legacy DocumentReferences
      minimum_necessary: only legacy scans
      review_by: 2027-02-15
      evidence: [LM-4]
      conditions:
        withheld_category: psychotherapy notes
        withheld_basis: not EHI
        segmentation_limitation: images
    notice: {message: Not available., next_step: Reasons follow in writing., contact: records office}
`
	os.WriteFile(pfile, []byte(text), 0o600)
	cfgFile := writeConfig(t, dir, pfile)
	ctx := context.Background()
	open := func() (*app, error) {
		cfg, err := configs.Load(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		return openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	}
	a, err := open()
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1:1/fhir/DocumentReference/d1", nil))
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "infeasibility.segmentation") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	id := w.Header().Get("X-Ehigate-Decision")
	if err := a.close(ctx); err != nil {
		t.Fatal(err)
	}
	// Reopening with the same set journals nothing new.
	a, err = open()
	if err != nil {
		t.Fatal(err)
	}
	hash := ""
	for _, rid := range []string{policy.LatestRecordID, ""} {
		if rid == "" {
			rid = policy.RecordID(hash)
		}
		es, err := a.store.RecordEntries(ctx, rid)
		if err != nil || len(es) != 1 {
			t.Fatalf("%s: %d entries, %v", rid, len(es), err)
		}
		var ps decision.PolicySet
		json.Unmarshal(es[0].Payload, &ps)
		if hash == "" {
			hash = ps.Hash
		} else if len(ps.Texts) != 1 || ps.Texts[0].ID != "no-legacy-docs" || len(ps.Texts[0].Text) == 0 {
			t.Fatalf("policy set entry %+v", ps)
		}
	}
	a.close(ctx)
	// A changed text under the same version does not start.
	os.WriteFile(pfile, []byte(strings.Replace(text, "mixed scans", "other reasons", 1)), 0o600)
	if _, err := open(); err == nil || !strings.Contains(err.Error(), "give the changed policy a new version") {
		t.Fatalf("changed text accepted: %v", err)
	}
	os.WriteFile(pfile, []byte(text), 0o600)

	var out bytes.Buffer
	if code := run(ctx, []string{"notices", "--config", cfgFile, "--within", "30d", "--by", "tester"}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), id) {
		t.Fatalf("notices: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"notices", "sent", id, "--config", cfgFile, "--by", "records office", "--channel", "mail"}, &out, io.Discard); code != 0 {
		t.Fatalf("notices sent: exit %d\n%s", code, out.String())
	}
	sealedAtHead(t, cfgFile)
	if code := run(ctx, []string{"notices", "sent", id, "--config", cfgFile, "--by", "x", "--channel", "mail"}, io.Discard, io.Discard); code == 0 {
		t.Fatal("a notice was marked sent twice")
	}
	out.Reset()
	run(ctx, []string{"notices", "--config", cfgFile, "--within", "30d", "--by", "tester"}, &out, io.Discard)
	if strings.Contains(out.String(), id) {
		t.Fatalf("a sent notice is still listed:\n%s", out.String())
	}
	cfg, _ := configs.Load(cfgFile)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Notice == nil || rec.Notice.SentAt == nil || rec.Notice.Channel != "mail" || !rec.HasFlag(decision.FlagNoticeSent) || !rec.HasFlag(decision.FlagNoticeRequired) {
		t.Fatalf("record %+v", rec)
	}
}

// sealedAtHead checks that the command line's chain is signed and sealed
// like the gateway's: its last entry is under a sealing checkpoint.
func sealedAtHead(t *testing.T, cfgFile string) {
	t.Helper()
	ctx := context.Background()
	cfg, st, err := openConfigStore(ctx, cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	chain := "cli@" + chainName(cfg)
	head, _, _ := st.Head(ctx, chain)
	sealed := false
	st.Checkpoints(ctx, chain, head, func(cp store.Checkpoint) error {
		sealed = sealed || cp.Sealed && cp.Seq == head
		return nil
	})
	if !sealed {
		t.Errorf("the command line's chain is not sealed at its head (%d)", head)
	}
}
