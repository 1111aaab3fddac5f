package exceptions

import (
	"errors"
	"strings"
	"testing"
)

func TestEmbeddedCatalog(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Version() == "" {
		t.Fatal("no version")
	}
	// Every exception in force in Part 171 and the non-exception codes.
	for _, code := range []string{
		"preventing-harm", "privacy", "security", "infeasibility", "health-it-performance",
		"protecting-care-access", "manner", "fees", "licensing", "tefca-manner",
		"required-by-law", "not-interference.patient-requested-delay", "not-interference.necessary-delay",
	} {
		e, err := c.Lookup(code)
		if err != nil {
			t.Errorf("%s: %v", code, err)
			continue
		}
		if e.Parent() != nil {
			t.Errorf("%s: should be top level", code)
		}
	}
	exceptions := 0
	for _, e := range c.Entries {
		if e.Kind == KindException {
			exceptions++
		}
	}
	if exceptions != 10 {
		t.Errorf("%d exceptions, want the 10 in force", exceptions)
	}
}

func TestLookup(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		code, want, cfr, status string
		citable                 bool
		deadline                string
	}{
		{"infeasibility.segmentation", "infeasibility.segmentation", "45 CFR 171.204(a)(2)", StatusInForce, true, "10 business days"},
		{"infeasibility.manner-exhausted", "infeasibility.manner-exhausted", "45 CFR 171.204(a)(4)", StatusAtRisk, true, "10 business days"},
		{"infeasibility.third-party-modification", "infeasibility.third-party-modification", "45 CFR 171.204(a)(3)", StatusAtRisk, true, "10 business days"},
		{"infeasibility", "infeasibility", "45 CFR 171.204", StatusInForce, false, "10 business days"},
		{"privacy.individual-request-not-to-share", "privacy.individual-request", "45 CFR 171.202(e)", StatusInForce, true, ""},
		{"privacy.denial-of-individual-access", "privacy.denial-of-individual-access", "45 CFR 171.202(d)", StatusInForce, true, "30 calendar days"},
		{"tefca-manner", "tefca-manner", "45 CFR 171.403", StatusAtRisk, true, ""},
		{"manner.requested-manner", "manner.requested-manner", "45 CFR 171.301(a)(1)", StatusWatch, true, ""},
		{"health-it-performance.third-party-app-impact", "health-it-performance.assured-performance", "45 CFR 171.205(b)", StatusInForce, true, ""},
		{"health-it-performance.security-route", "health-it-performance.security-route", "45 CFR 171.205(d)", StatusInForce, false, ""},
		{"licensing", "licensing", "45 CFR 171.303", StatusInForce, true, "10 business days"},
		{"required-by-law", "required-by-law", "45 CFR 171.103(a)(1)", StatusInForce, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			e, err := c.Lookup(tc.code)
			if err != nil {
				t.Fatal(err)
			}
			if e.Code != tc.want || e.CFR != tc.cfr || e.EffectiveStatus() != tc.status || e.Citable() != tc.citable {
				t.Fatalf("got %s %s %s citable=%v", e.Code, e.CFR, e.EffectiveStatus(), e.Citable())
			}
			got := ""
			if d := e.Duty(); d != nil && d.Deadline != nil {
				got = d.Deadline.String()
			}
			if got != tc.deadline {
				t.Fatalf("deadline %q, want %q", got, tc.deadline)
			}
		})
	}
	if _, err := c.Lookup("privacy.nope"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown code: %v", err)
	}
}

func TestFieldsInheritAndOverride(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	e, _ := c.Lookup("preventing-harm.data-quality")
	var names []string
	for _, f := range e.Fields() {
		names = append(names, f.Name)
		if f.Name == "harm_type" && len(f.Values) != 2 {
			t.Errorf("harm_type not narrowed by the sub-condition: %v", f.Values)
		}
	}
	want := "harm_type basis risk_description data_defect_type detection_evidence remediation_ticket"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("fields %q, want %q", got, want)
	}
	ind, _ := c.Lookup("preventing-harm.individualized-determination")
	if !ind.LicensedProfessional {
		t.Fatal("individualized determination needs a licensed professional")
	}
}

func TestParseRejectsBadCatalogs(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"missing version", "id: x\nentries: []\n", "version: is required"},
		{"sub prefix", "id: x\nversion: '1'\nentries:\n  - {code: a, kind: exception, cfr: c, status: in_force, subcodes: [{code: b, cfr: d}]}\n", "must start with"},
		{"duplicate", "id: x\nversion: '1'\nentries:\n  - {code: a, kind: exception, cfr: c, status: in_force}\n  - {code: a, kind: exception, cfr: c, status: in_force}\n", "appears twice"},
		{"bad field type", "id: x\nversion: '1'\nentries:\n  - {code: a, kind: exception, cfr: c, status: in_force, documentation: [{name: f, type: number, text: t}]}\n", "want text, date, enum or list"},
		{"bad deadline", "id: x\nversion: '1'\nentries:\n  - {code: a, kind: exception, cfr: c, status: in_force, notice: {duty: d, deadline: {days: 0, basis: weeks}}}\n", "basis business_days"},
		{"unknown key", "id: x\nversion: '1'\nentries:\n  - {code: a, kind: exception, cfr: c, status: in_force, colour: red}\n", "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
