package gateway_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir/stream"
	"github.com/ehigate/ehigate/gateway"
)

func TestHoldNoticeGolden(t *testing.T) {
	const id = "01JZ8Y3Q7W4M0V5T2K9D6R1C3B"
	at := time.Date(2026, 7, 5, 10, 0, 0, 0, time.UTC)
	d := decision.Decision{Action: decision.Delay, Exception: requested,
		Policies: []decision.PolicyRef{ref("results-hold", decision.Delay, requested)},
		Notice:   decision.Notice{Message: "You asked for new results to be released after your clinician has called you", NextStep: "The answer will be ready at the status address", Contact: "Patient portal help, 555-0199"}}
	tests := []struct {
		name string
		hold decision.HoldRef
		text string
	}{
		{"hold", decision.HoldRef{ID: "H", ReleaseAt: &at, State: decision.HoldHeld}, "held until 2026-07-05T10:00:00Z"},
		{"hold-staff", decision.HoldRef{ID: "H", State: decision.HoldHeld}, "until staff release it"},
		{"hold-released", decision.HoldRef{ID: "H", State: decision.HoldReleased}, "was released"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d.Hold = &tc.hold
			b := gateway.HoldNotice(id, d).JSON()
			validR4(t, b)
			for _, s := range []string{tc.text, id, requested.Code, `"informational"`} {
				if !bytes.Contains(b, []byte(s)) {
					t.Fatalf("notice lacks %q: %s", s, b)
				}
			}
			golden(t, filepath.Join("notices", tc.name+".golden.json"), b)
		})
	}
}

// TestEmbargoDisclosureGolden: the disclosure entry of an embargo tells
// the earliest release time of what it withheld (through the gateway,
// see TestEmbargo); without release times it reads as a redaction's.
func TestEmbargoDisclosureGolden(t *testing.T) {
	d := decision.Decision{Action: decision.Delay, Exception: requested,
		Policies: []decision.PolicyRef{ref("results-embargo", decision.Delay, requested)},
		Redactions: []decision.Redaction{{Policy: "results-embargo", Exception: requested, Disclose: true, Embargo: true,
			Notice: decision.Notice{Message: "New pathology results are released 72 hours after they are issued", NextStep: "Check again after the time given"}}}}
	ws := []stream.Withheld{{Type: "DiagnosticReport", ID: "r1", Tag: "results-embargo"}, {Type: "DiagnosticReport", ID: "r2", Tag: "results-embargo"}}
	b := gateway.DisclosureEntry("01JZ8Y3Q7W4M0V5T2K9D6R1C3B", d, ws)
	var entry struct {
		Resource json.RawMessage `json:"resource"`
	}
	if err := json.Unmarshal(b, &entry); err != nil {
		t.Fatal(err)
	}
	validR4(t, entry.Resource)
	if !bytes.Contains(b, []byte("2 resources were withheld")) {
		t.Fatalf("%s", b)
	}
	golden(t, filepath.Join("notices", "disclosure-embargo.golden.json"), b)
}
