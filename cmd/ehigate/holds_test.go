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
)

// delayConfig writes a configuration with a staff-released hold policy,
// a documented upstream refusal and a patient's Consent, in front of
// upstream.
func delayConfig(t *testing.T, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"policies/hold.yaml": `policies:
  - id: notes-hold
    version: "1"
    description: Notes are released by the patient's clinician.
    action: delay
    exception: not-interference.patient-requested-delay
    match: {resource_types: [DocumentReference]}
    delay: {form: hold, release: staff}
    documentation:
      rationale: The patient asked to read notes with their clinician.
      decided_by: {name: Dr. Amara Chen, role: CMIO}
      decided_at: 2026-11-10
      ehi_scope: DocumentReferences of the patient
      minimum_necessary: Only until the clinician releases them.
      review_by: 2027-05-10
      evidence: [ASTP FAQ on patient-requested delays]
      conditions:
        patient_request_record: portal preference
        agreed_timeframe_or_condition: until the clinician has called
    notice: {message: You asked for notes to be released by your clinician., next_step: Your clinician will release them., contact: portal help}
`,
		"consents/p9.json": `{"resourceType":"Consent","id":"p9-opt-out","status":"active","patient":{"reference":"Patient/p9"},"dateTime":"2026-10-12",
			"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`,
		"ehigate.yaml": fmt.Sprintf(`listen: "127.0.0.1:0"
public_base_url: "http://127.0.0.1:1/fhir"
upstream: {url: %q}
store: {sqlite: {path: records.db}}
journal: {chain: test}
policies: [policies]
log: {level: error}
consents: [consents]
consent_policy:
  not_induced: Staff follow script HIM-7.
  termination: In writing, or orally documented by staff.
  notice: {message: The patient asked that their records not be shared., next_step: Ask the patient., contact: him@example.org}
upstream_refusals:
  - id: ehr-maintenance
    version: "1"
    description: The EHR answers 503 during its weekly maintenance.
    match: {status: [503]}
    exception: health-it-performance.maintenance
    documentation:
      rationale: The vendor patches the EHR weekly.
      decided_by: {name: Sam Patel, role: CISO}
      decided_at: 2026-11-01
      ehi_scope: Every API request during the window.
      minimum_necessary: Two hours a week, announced.
      review_by: 2027-05-01
      evidence: [Vendor SLA v4]
      conditions: {maintenance_ticket: CHG-2211, planned: planned, window_start: 2026-11-08, window_end: 2027-05-01}
`, upstream),
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "ehigate.yaml")
}

func TestHoldsAndReports(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		switch {
		case strings.Contains(r.URL.Path, "/Patient/"):
			w.WriteHeader(503)
			io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}`)
		case strings.Contains(r.URL.Path, "/Observation/"):
			w.WriteHeader(403)
			io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden"}]}`)
		default:
			io.WriteString(w, `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"url":"x"}}]}`)
		}
	}))
	defer up.Close()
	cfgFile := delayConfig(t, up.URL+"/fhir")
	ctx := context.Background()
	open := func() *app {
		cfg, err := configs.Load(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	serve := func(a *app, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		a.handler.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1:1/fhir/"+path, nil))
		return w
	}
	a := open()
	w := serve(a, "DocumentReference/d1")
	loc := w.Header().Get("Content-Location")
	if w.Code != 202 || !strings.Contains(loc, "/fhir/_hold/") {
		t.Fatalf("hold: %d %s", w.Code, w.Body)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	for _, p := range []string{"Patient/p1", "Observation/o1", "Observation/o2"} {
		serve(a, p)
	}
	if w := serve(a, "Condition?patient=p9"); w.Code != 403 || !strings.Contains(w.Body.String(), "privacy.individual-request") {
		t.Fatalf("the patient's Consent: %d %s", w.Code, w.Body)
	}
	if err := a.close(ctx); err != nil {
		t.Fatal(err)
	}

	cmd := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(ctx, append(args, "--config", cfgFile), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := cmd("holds", "list"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "notes-hold") || !strings.Contains(out, "staff") {
		t.Fatalf("holds list: %d\n%s", code, out)
	}
	if code, out := cmd("holds", "release", id, "--by", "Dr. Amara Chen"); code != 2 {
		t.Fatalf("release without a reason: %d\n%s", code, out)
	}
	if code, out := cmd("holds", "release", id, "--by", "Dr. Amara Chen", "--reason", "notes discussed with the patient"); code != 0 {
		t.Fatalf("holds release: %d\n%s", code, out)
	}
	if code, out := cmd("holds", "release", id, "--by", "x", "--reason", "y"); code != 1 || !strings.Contains(out, "not possible") {
		t.Fatalf("second release: %d\n%s", code, out)
	}
	if code, out := cmd("holds", "list", "--state", "released"); code != 0 || !strings.Contains(out, "Dr. Amara Chen") {
		t.Fatalf("holds list --state released: %d\n%s", code, out)
	}

	a = open()
	if n, err := a.enf.holds.Step(ctx); n != 1 || err != nil {
		t.Fatalf("releaser: %d %v", n, err)
	}
	if w := serve(a, "_hold/"+id); w.Code != 200 || !strings.Contains(w.Body.String(), `"id":"d1"`) {
		t.Fatalf("collect: %d %s", w.Code, w.Body)
	}
	a.close(ctx)

	code, out := cmd("report", "undocumented", "--format", "json")
	var groups []struct {
		UpstreamStatus int    `json:"upstream_status"`
		Interaction    string `json:"interaction"`
		ResourceType   string `json:"resource_type"`
		Count          int    `json:"count"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &groups) != nil {
		t.Fatalf("report: %d\n%s", code, out)
	}
	if len(groups) != 1 || groups[0].Count != 2 || groups[0].UpstreamStatus != 403 || groups[0].ResourceType != "Observation" {
		t.Fatalf("undocumented groups %+v (the documented 503 must not be listed)", groups)
	}
	if code, out := cmd("report", "undocumented"); code != 0 || !strings.Contains(out, "403") {
		t.Fatalf("report table: %d\n%s", code, out)
	}
	if code, _ := cmd("report", "nothing"); code != 2 {
		t.Fatalf("unknown report kind: exit %d", code)
	}
}
