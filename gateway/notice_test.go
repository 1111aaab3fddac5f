package gateway_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir/stream"
	"github.com/ehigate/ehigate/gateway"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// validR4 fails t unless b is a valid FHIR R4 resource.
func validR4(t *testing.T, b []byte) {
	t.Helper()
	u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Unmarshal(b); err != nil {
		t.Fatalf("not valid R4: %v\n%s", err, b)
	}
}

// golden compares b, indented, with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, b []byte) {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	out.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("%s differs (run go test -update after checking):\n%s", path, out.Bytes())
	}
}

var (
	segmentation = &decision.ExceptionRef{Code: "infeasibility.segmentation", CFR: "45 CFR 171.204(a)(2)", CatalogVersion: "2026.07.1"}
	security     = &decision.ExceptionRef{Code: "security.case-determination", CFR: "45 CFR 171.203(e)", CatalogVersion: "2026.07.1"}
	performance  = &decision.ExceptionRef{Code: "health-it-performance.assured-performance", CFR: "45 CFR 171.205(b)", CatalogVersion: "2026.07.1"}
	requested    = &decision.ExceptionRef{Code: "not-interference.patient-requested-delay", CFR: "85 FR 25813", CatalogVersion: "2026.07.1"}
	part2        = &decision.ExceptionRef{Code: "privacy.precondition-not-satisfied", CFR: "45 CFR 171.202(b)", CatalogVersion: "2026.07.1"}
	harm         = &decision.ExceptionRef{Code: "preventing-harm.individualized-determination", CFR: "45 CFR 171.201(c)(1)", CatalogVersion: "2026.07.1"}
)

func ref(id string, a decision.Action, e *decision.ExceptionRef) decision.PolicyRef {
	return decision.PolicyRef{ID: id, Version: "3", SHA256: strings.Repeat("ab", 32), Action: a, Exception: e.Code}
}

func TestNoticeGolden(t *testing.T) {
	const id = "01JZ8Y3Q7W4M0V5T2K9D6R1C3B"
	tests := []struct {
		name   string
		d      decision.Decision
		status int
	}{
		{"deny", decision.Decision{Action: decision.Deny, Exception: security,
			Policies: []decision.PolicyRef{ref("block-client-7f3a", decision.Deny, security), ref("allow-all", decision.Allow, security)},
			Notice: decision.Notice{Message: "This app's access is suspended while a security incident is investigated", NextStep: "The app's developer can ask for a review of the suspension",
				Contact: "security@example-health.org"}}, 403},
		{"deny-infeasible", decision.Decision{Action: decision.Deny, Exception: segmentation,
			Policies: []decision.PolicyRef{ref("legacy-notes", decision.Deny, segmentation)},
			Notice:   decision.Notice{Message: "Scanned notes from before 2019 cannot be separated from notes that may not be shared.", NextStep: "A written explanation will be sent within 10 business days.", AlternativeManner: "Copies can be requested from the records office.", Contact: "Health Information Management, 555-0100"}}, 403},
		{"deny-404", decision.Decision{Action: decision.Deny, Exception: harm,
			Policies: []decision.PolicyRef{ref("harm-pat-0412", decision.Deny, harm)},
			Notice:   decision.Notice{Message: "secret reason that must not show", Status: 404}}, 404},
		{"redact-read", decision.Decision{Action: decision.Redact, Exception: part2,
			Policies: []decision.PolicyRef{ref("part2", decision.Redact, part2)},
			Notice:   decision.Notice{Message: "Records protected by 42 CFR Part 2 need the patient's written consent to be shared.", NextStep: "Ask the patient to sign a consent naming your organization.", Contact: "privacy@example-health.org"}}, 403},
		{"throttle", decision.Decision{Action: decision.Throttle, Exception: performance,
			Policies: []decision.PolicyRef{ref("app-rate", decision.Throttle, performance)},
			Notice:   decision.Notice{Message: "This app is sending more requests than the service can answer.", NextStep: "Retry after the time in the Retry-After header."}}, 429},
		{"delay", decision.Decision{Action: decision.Delay, Exception: requested,
			Policies: []decision.PolicyRef{ref("results-hold", decision.Delay, requested)},
			Notice:   decision.Notice{Message: "The patient asked for new results to be released after they are discussed with them", NextStep: "Check back after the time given"}}, 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := gateway.NoticeStatus(tc.d); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			b := gateway.Notice(id, tc.d).JSON()
			validR4(t, b)
			if tc.status == 404 && (bytes.Contains(b, []byte("secret")) || bytes.Contains(b, []byte(harm.Code))) {
				t.Fatalf("a 404 notice reveals the restriction: %s", b)
			}
			if tc.status != 404 && (!bytes.Contains(b, []byte(id)) || !bytes.Contains(b, []byte(tc.d.Exception.Code))) {
				t.Fatalf("notice lacks the decision id or exception: %s", b)
			}
			golden(t, filepath.Join("notices", tc.name+".golden.json"), b)
		})
	}
}

func TestDisclosureEntryGolden(t *testing.T) {
	d := decision.Decision{Action: decision.Redact, Exception: part2,
		Policies: []decision.PolicyRef{ref("part2", decision.Redact, part2), ref("legacy-notes", decision.Redact, segmentation), ref("quiet", decision.Redact, part2)},
		Redactions: []decision.Redaction{
			{Policy: "part2", Exception: part2, Disclose: true, Notice: decision.Notice{Message: "Records protected by 42 CFR Part 2 need the patient's written consent", NextStep: "Ask the patient for consent", Contact: "privacy@example-health.org"}},
			{Policy: "legacy-notes", Exception: segmentation, Disclose: true, Notice: decision.Notice{Message: "Some scanned notes cannot be separated", NextStep: "A written explanation will follow", AlternativeManner: "Ask the records office for copies"}},
			{Policy: "quiet", Exception: part2, Disclose: false},
		}}
	ws := []stream.Withheld{
		{Type: "Condition", ID: "c1", Tag: "part2"}, {Type: "Observation", ID: "o1", Tag: "part2"},
		{Type: "DocumentReference", ID: "d1", Tag: "legacy-notes"}, {Type: "Condition", ID: "c9", Tag: "quiet"},
		{Type: "Observation", ID: "o2", Tag: gateway.ScopePolicy},
	}
	b := gateway.DisclosureEntry("01JZ8Y3Q7W4M0V5T2K9D6R1C3B", d, ws)
	var entry struct {
		Resource json.RawMessage `json:"resource"`
		Search   struct{ Mode string }
	}
	if err := json.Unmarshal(b, &entry); err != nil || entry.Search.Mode != "outcome" {
		t.Fatalf("entry %s: %v", b, err)
	}
	validR4(t, entry.Resource)
	for _, leak := range []string{"c1", "o1", "d1", "c9", "quiet"} {
		if bytes.Contains(b, []byte(`"`+leak+`"`)) || bytes.Contains(b, []byte("policy "+leak)) {
			t.Fatalf("disclosure names %s: %s", leak, b)
		}
	}
	if !bytes.Contains(b, []byte("2 resources were withheld")) || !bytes.Contains(b, []byte("1 resource was withheld")) {
		t.Fatalf("counts: %s", b)
	}
	golden(t, filepath.Join("notices", "disclosure.golden.json"), b)
	if gateway.DisclosureEntry("x", d, ws[3:]) != nil {
		t.Fatal("undisclosed withholding produced an entry")
	}
}

func TestCFRURL(t *testing.T) {
	tests := map[string]string{
		"45 CFR 171.204(a)(2)": "https://www.ecfr.gov/current/title-45/section-171.204#p-171.204(a)(2)",
		"45 CFR 171.403":       "https://www.ecfr.gov/current/title-45/section-171.403",
		"45 CFR 164.524(b)(2)": "https://www.ecfr.gov/current/title-45/section-164.524#p-164.524(b)(2)",
		"85 FR 25813":          "https://www.federalregister.gov/citation/85-FR-25813",
		"":                     "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-D/part-171",
		"45 CFR <script>":      "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-D/part-171",
	}
	for in, want := range tests {
		if got := gateway.CFRURL(in); got != want {
			t.Errorf("CFRURL(%q) = %q, want %q", in, got, want)
		}
	}
}
