package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision/exceptions"
)

func catalog(t testing.TB) *exceptions.Catalog {
	t.Helper()
	c, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// complete returns a complete, valid policy document (as YAML values) for
// action citing entry e.
func complete(e *exceptions.Entry, action string) map[string]any {
	conds := map[string]any{}
	for _, f := range e.Fields() {
		switch f.Type {
		case exceptions.FieldDate:
			conds[f.Name] = "2026-03-01"
		case exceptions.FieldEnum:
			conds[f.Name] = f.Values[0]
		case exceptions.FieldList:
			var l []string
			for i := 0; i < max(f.Min, 1); i++ {
				l = append(l, fmt.Sprintf("item %d", i+1))
			}
			conds[f.Name] = l
		default:
			conds[f.Name] = "documented " + f.Name
		}
	}
	p := map[string]any{
		"id":          "p-" + strings.ReplaceAll(e.Code, ".", "-"),
		"version":     "1",
		"description": "test policy",
		"action":      action,
		"exception":   e.Code,
		"match":       map[string]any{"requester": map[string]any{"class": []string{"app"}}, "resource_types": []string{"Observation"}},
		"documentation": map[string]any{
			"rationale":         "why",
			"decided_by":        map[string]any{"name": "Dr. A", "role": "privacy officer", "credentials": "MD, license 123"},
			"decided_at":        "2026-03-01",
			"ehi_scope":         "scope",
			"minimum_necessary": "narrow",
			"review_by":         "2026-09-01",
			"evidence":          []string{"risk analysis RA-1"},
			"conditions":        conds,
		},
		"notice": map[string]any{"message": "m", "next_step": "n", "contact": "c"},
	}
	switch action {
	case "redact":
		p["match"].(map[string]any)["security_labels"] = []string{SystemActCode + "|ETH"}
	case "throttle":
		p["throttle"] = map[string]any{"key": "client_id", "rate": "10/s", "burst": 20, "on_store_failure": "allow"}
	case "delay":
		p["delay"] = map[string]any{"form": "hold", "hold_for": "24h"}
	}
	return p
}

func doc(policies ...map[string]any) []byte {
	b, err := yaml.Marshal(map[string]any{"policies": policies})
	if err != nil {
		panic(err)
	}
	return b
}

// del removes a dotted key from a policy document.
func del(p map[string]any, key string) {
	parts := strings.Split(key, ".")
	m := p
	for _, k := range parts[:len(parts)-1] {
		m = m[k].(map[string]any)
	}
	delete(m, parts[len(parts)-1])
}

// clone deep-copies a policy document.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []string:
		return slices.Clone(x)
	}
	return v
}

func problems(t *testing.T, err error) yamlx.Problems {
	t.Helper()
	var ps yamlx.Problems
	if err == nil {
		return nil
	}
	if !asProblems(err, &ps) {
		t.Fatalf("error is not a problem list: %v", err)
	}
	return ps
}

func asProblems(err error, ps *yamlx.Problems) bool {
	p, ok := err.(yamlx.Problems)
	*ps = p
	return ok
}

func hasProblem(ps yamlx.Problems, path, fragment string) bool {
	for _, p := range ps {
		if p.Path == path && strings.Contains(p.Msg, fragment) {
			return true
		}
	}
	return false
}

// TestEveryCitableEntryLoadsAndNeedsEachField builds, for every citable
// catalog entry, a complete policy that must load, then removes each
// documented field in turn: each removal must be reported at its own key
// path with the file's line.
func TestEveryCitableEntryLoadsAndNeedsEachField(t *testing.T) {
	cat := catalog(t)
	common := []string{
		"description", "exception", "documentation.rationale", "documentation.decided_by.name",
		"documentation.decided_by.role", "documentation.decided_at", "documentation.ehi_scope",
		"documentation.minimum_necessary", "documentation.review_by", "documentation.evidence",
		"notice.message", "notice.next_step",
	}
	for _, e := range cat.All() {
		if !e.Citable() {
			continue
		}
		t.Run(e.Code, func(t *testing.T) {
			base := complete(e, "deny")
			if _, err := Parse("p.yaml", doc(base), Options{Catalog: cat}); err != nil {
				t.Fatalf("complete policy does not load:\n%v", err)
			}
			keys := slices.Clone(common)
			for _, f := range e.Fields() {
				if !f.Optional {
					keys = append(keys, "documentation.conditions."+f.Name)
				}
			}
			if e.LicensedProfessional {
				keys = append(keys, "documentation.decided_by.credentials")
			}
			for _, key := range keys {
				t.Run(key, func(t *testing.T) {
					p := clone(base).(map[string]any)
					del(p, key)
					_, err := Parse("p.yaml", doc(p), Options{Catalog: cat})
					ps := problems(t, err)
					want := "policies[0]." + key
					for _, pr := range ps {
						if pr.Path == want {
							if pr.File != "p.yaml" || pr.Line == 0 {
								t.Fatalf("problem without file:line: %s", pr)
							}
							return
						}
					}
					t.Fatalf("removing %s: want a problem at %s, got:\n%v", key, want, err)
				})
			}
		})
	}
}

func TestCredentialsOptionalWithoutLicensedProfessional(t *testing.T) {
	cat := catalog(t)
	e, _ := cat.Lookup("security.case-determination")
	p := complete(e, "deny")
	del(p, "documentation.decided_by.credentials")
	if _, err := Parse("p.yaml", doc(p), Options{Catalog: cat}); err != nil {
		t.Fatal(err)
	}
}

func TestValidation(t *testing.T) {
	cat := catalog(t)
	seg, _ := cat.Lookup("infeasibility.segmentation")
	tests := []struct {
		name   string
		action string
		mutate func(p map[string]any)
		path   string // problem expected at policies[0].path
		msg    string
	}{
		{"exception with sub-conditions", "deny", func(p map[string]any) { p["exception"] = "privacy" }, "exception", "cite one of privacy.precondition-not-satisfied"},
		{"routing exception", "deny", func(p map[string]any) { p["exception"] = "health-it-performance.security-route" }, "exception", "cite the security exception"},
		{"unknown exception", "deny", func(p map[string]any) { p["exception"] = "convenience" }, "exception", "unknown exception code"},
		{"missing action", "deny", func(p map[string]any) { delete(p, "action") }, "action", "is required"},
		{"error action", "deny", func(p map[string]any) { p["action"] = "error" }, "action", "want allow"},
		{"bad action", "deny", func(p map[string]any) { p["action"] = "block" }, "action", "unknown action"},
		{"bad id", "deny", func(p map[string]any) { p["id"] = "has space" }, "id", "want letters"},
		{"unknown key", "deny", func(p map[string]any) { p["exeption"] = "x" }, "exeption", "did you mean \"exception\""},
		{"unknown condition field", "deny", func(p map[string]any) {
			p["documentation"].(map[string]any)["conditions"].(map[string]any)["colour"] = "red"
		}, "documentation.conditions.colour", "is not a field of infeasibility.segmentation"},
		{"empty condition", "deny", func(p map[string]any) {
			p["documentation"].(map[string]any)["conditions"].(map[string]any)["withheld_category"] = " "
		}, "documentation.conditions.withheld_category", "must not be empty"},
		{"review_by before decided_at", "deny", func(p map[string]any) {
			p["documentation"].(map[string]any)["review_by"] = "2026-01-01"
		}, "documentation.review_by", "must be after decided_at"},
		{"review interval too long", "deny", func(p map[string]any) {
			p["documentation"].(map[string]any)["review_by"] = "2027-06-01"
		}, "documentation.review_by", "more than 365 days"},
		{"no contact nor alternative", "deny", func(p map[string]any) { del(p, "notice.contact") }, "notice.contact", "is required unless"},
		{"404 without reason", "deny", func(p map[string]any) { p["notice"].(map[string]any)["status"] = 404 }, "documentation.conceal_existence_reason", "is required with notice.status 404"},
		{"status 500", "deny", func(p map[string]any) { p["notice"].(map[string]any)["status"] = 500 }, "notice.status", "want 403 or 404"},
		{"deny with labels", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["security_labels"] = []string{SystemActCode + "|ETH"}
		}, "match.security_labels", "use action redact"},
		{"deny with resource_when", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["resource_when"] = "true"
		}, "match.resource_when", "use action redact"},
		{"redact without resource criteria", "redact", func(p map[string]any) {
			m := p["match"].(map[string]any)
			delete(m, "security_labels")
			delete(m, "resource_types")
		}, "match", "needs per-resource criteria"},
		{"nondisclosure without reason", "redact", func(p map[string]any) { p["disclose_withholding"] = false }, "documentation.nondisclosure_reason", "is required"},
		{"disclosure on deny", "deny", func(p map[string]any) { p["disclose_withholding"] = true }, "disclose_withholding", "applies only to redact"},
		{"bad label", "redact", func(p map[string]any) {
			p["match"].(map[string]any)["security_labels"] = []string{"ETH"}
		}, "match.security_labels[0]", "want system|code"},
		{"bad class", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["requester"] = map[string]any{"class": []string{"doctor"}}
		}, "match.requester.class[0]", "unknown requester class"},
		{"bad interaction", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["interactions"] = []string{"fetch"}
		}, "match.interactions[0]", "unknown interaction"},
		{"bad resource type", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["resource_types"] = []string{"Observations"}
		}, "match.resource_types[0]", "unknown R4 resource type"},
		{"bad data class", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["data_classes"] = []string{"Labs"}
		}, "match.data_classes[0]", "unknown USCDI data class"},
		{"bad patient", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["patients"] = []string{"a/b"}
		}, "match.patients[0]", "not a valid Patient id"},
		{"CEL syntax", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["when"] = "request.interaction =="
		}, "match.when", "CEL"},
		{"CEL not bool", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["when"] = "size(request.patients)"
		}, "match.when", "not a bool"},
		{"CEL unknown variable", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["when"] = "resource.id == 'x'"
		}, "match.when", "undeclared reference"},
		{"window zone", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["window"] = map[string]any{"time_zone": "Mars/Olympus", "from": "2026-01-01"}
		}, "match.window.time_zone", "unknown time zone"},
		{"window slot", "deny", func(p map[string]any) {
			p["match"].(map[string]any)["window"] = map[string]any{"weekly": []any{map[string]any{"days": []string{"funday"}, "from": "18:00", "to": "08:00"}}}
		}, "match.window.weekly[0].days", "unknown day"},
		{"review without outcome", "deny", func(p map[string]any) {
			p["reviews"] = []any{map[string]any{"by": "x", "at": "2026-04-01"}}
		}, "reviews[0].outcome", "want continue"},
		{"review ended", "deny", func(p map[string]any) {
			p["reviews"] = []any{map[string]any{"by": "x", "at": "2026-04-01", "outcome": "end"}}
		}, "reviews[0].outcome", "ended this policy"},
		{"review before decision", "deny", func(p map[string]any) {
			p["reviews"] = []any{map[string]any{"by": "x", "at": "2025-04-01", "outcome": "continue"}}
		}, "reviews[0].at", "before documentation.decided_at"},
		{"bad lapse", "deny", func(p map[string]any) { p["on_review_overdue"] = "drop" }, "on_review_overdue", "want keep or lapse"},
		{"throttle missing", "throttle", func(p map[string]any) { delete(p, "throttle") }, "throttle", "is required"},
		{"throttle rate", "throttle", func(p map[string]any) { p["throttle"].(map[string]any)["rate"] = "fast" }, "throttle.rate", "want requests per"},
		{"throttle key", "throttle", func(p map[string]any) { p["throttle"].(map[string]any)["key"] = "ip" }, "throttle.key", "want subject"},
		{"throttle store failure", "throttle", func(p map[string]any) { delete(p["throttle"].(map[string]any), "on_store_failure") }, "throttle.on_store_failure", "is required"},
		{"throttle on deny", "deny", func(p map[string]any) {
			p["throttle"] = map[string]any{"key": "global", "rate": "1/s", "on_store_failure": "deny"}
		}, "throttle", "applies only to action throttle"},
		{"delay form", "delay", func(p map[string]any) { p["delay"] = map[string]any{"form": "pause"} }, "delay.form", "want embargo or hold"},
		{"hold needs duration", "delay", func(p map[string]any) { p["delay"] = map[string]any{"form": "hold"} }, "delay.hold_for", "is required"},
		{"embargo needs resource_when", "delay", func(p map[string]any) {
			p["delay"] = map[string]any{"form": "embargo", "release_after": "72h", "from": "issued"}
		}, "match.resource_when", "is required for an embargo"},
		{"embargo element", "delay", func(p map[string]any) {
			p["delay"] = map[string]any{"form": "embargo", "release_after": "72h", "from": "Issued!"}
			p["match"].(map[string]any)["resource_when"] = "true"
		}, "delay.from", "want a date element path"},
		{"hold with labels", "delay", func(p map[string]any) {
			p["match"].(map[string]any)["security_labels"] = []string{SystemActCode + "|ETH"}
		}, "match.security_labels", "use action redact"},
		{"delay duration", "delay", func(p map[string]any) { p["delay"].(map[string]any)["hold_for"] = "soon" }, "delay.hold_for", "want a duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := complete(seg, tc.action)
			tc.mutate(p)
			_, err := Parse("p.yaml", doc(p), Options{Catalog: cat})
			if tc.path == "" {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			ps := problems(t, err)
			if !hasProblem(ps, "policies[0]."+tc.path, tc.msg) {
				t.Fatalf("want %q at policies[0].%s, got:\n%v", tc.msg, tc.path, err)
			}
		})
	}
}

func TestAllowPolicyNeedsNoDocumentation(t *testing.T) {
	cat := catalog(t)
	y := `policies:
  - id: allow-treatment
    version: "1"
    description: treating providers are allowed everything
    action: allow
    match:
      requester: {class: [provider]}
`
	s, err := Parse("a.yaml", []byte(y), Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Lookup("allow-treatment"); p == nil || p.Restricts() {
		t.Fatalf("policy %+v", p)
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	cat := catalog(t)
	y := `policies:
  - id: a
    version: "1"
    action: deny
  - id: a
    version: "1"
    description: dup
    action: allow
`
	_, err := Parse("x.yaml", []byte(y), Options{Catalog: cat})
	ps := problems(t, err)
	for _, want := range []string{"policies[0].description", "policies[0].exception", "policies[0].documentation.rationale", "policies[0].notice.message", "policies[1].id"} {
		found := false
		for _, p := range ps {
			found = found || p.Path == want
		}
		if !found {
			t.Errorf("missing problem at %s in:\n%v", want, err)
		}
	}
	for _, p := range ps {
		if p.Path == "policies[1].id" && !strings.Contains(p.Msg, "x.yaml:2") {
			t.Errorf("duplicate does not point at the first: %s", p)
		}
	}
}

func TestCanonicalTextAndHashes(t *testing.T) {
	cat := catalog(t)
	e, _ := cat.Lookup("privacy.individual-request")
	p := complete(e, "redact")
	p["match"].(map[string]any)["requester"] = map[string]any{"class": []string{"payer", "app", "app"}}
	s1, err := Parse("a.yaml", doc(p), Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	// The same policy written differently: aliases, key order, list order,
	// a date as an RFC 3339 time.
	q := clone(p).(map[string]any)
	q["exception"] = "privacy.individual-request-not-to-share"
	q["match"].(map[string]any)["requester"] = map[string]any{"class": []string{"app", "payer"}}
	q["documentation"].(map[string]any)["decided_at"] = "2026-03-01T00:00:00Z"
	s2, err := Parse("b.yaml", doc(q), Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	a, b := s1.Policies()[0], s2.Policies()[0]
	if a.SHA256() != b.SHA256() || s1.Hash() != s2.Hash() {
		t.Fatalf("equivalent texts differ:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	c := string(a.Canonical())
	for _, want := range []string{`"class":["app","payer"]`, `"decided_at":"2026-03-01T00:00:00Z"`, `"exception":"privacy.individual-request"`, `"action":"redact"`} {
		if !strings.Contains(c, want) {
			t.Errorf("canonical text lacks %s:\n%s", want, c)
		}
	}
	if strings.Contains(c, " ") && !strings.Contains(c, "test policy") {
		t.Errorf("canonical text has whitespace: %s", c)
	}
	// Keys are sorted.
	if i, j := strings.Index(c, `"action"`), strings.Index(c, `"version"`); i < 0 || j < i {
		t.Errorf("keys not sorted: %s", c)
	}
	// A real change changes the hashes.
	q["documentation"].(map[string]any)["rationale"] = "another reason"
	s3, _ := Parse("c.yaml", doc(q), Options{Catalog: cat})
	if s3.Policies()[0].SHA256() == a.SHA256() || s3.Hash() == s1.Hash() {
		t.Fatal("a changed text keeps its hash")
	}
	// The set hash covers the catalog version.
	if Empty(cat).Hash() == s1.Hash() {
		t.Fatal("empty set has the same hash")
	}
}

func TestHistory(t *testing.T) {
	cat := catalog(t)
	e, _ := cat.Lookup("security.organizational-policy")
	base := complete(e, "deny")
	prev, err := Parse("p.yaml", doc(base), Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	texts := prev.Entry("x", time.Now()).Texts
	tests := []struct {
		name   string
		mutate func(p map[string]any)
		want   string // "" for no problem
	}{
		{"unchanged", func(map[string]any) {}, ""},
		{"text changed, same version", func(p map[string]any) { p["description"] = "changed" }, "give the changed policy a new version"},
		{"new version, review_by moved without review", func(p map[string]any) {
			p["version"] = "2"
			p["documentation"].(map[string]any)["review_by"] = "2026-12-01"
		}, "without a new review"},
		{"new version, review_by moved with a review", func(p map[string]any) {
			p["version"] = "2"
			p["documentation"].(map[string]any)["review_by"] = "2026-12-01"
			p["reviews"] = []any{map[string]any{"by": "committee", "at": "2026-08-15", "outcome": "continue"}}
		}, ""},
		{"new version, review_by earlier", func(p map[string]any) {
			p["version"] = "2"
			p["documentation"].(map[string]any)["review_by"] = "2026-06-01"
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := clone(base).(map[string]any)
			tc.mutate(p)
			s, err := Parse("p.yaml", doc(p), Options{Catalog: cat})
			if err != nil {
				t.Fatal(err)
			}
			err = s.CheckHistory(texts)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
}

func TestReviews(t *testing.T) {
	cat := catalog(t)
	e, _ := cat.Lookup("security.case-determination")
	a := complete(e, "deny") // review_by 2026-09-01
	b := complete(e, "deny")
	b["id"] = "later"
	b["documentation"].(map[string]any)["review_by"] = "2026-12-01"
	b["on_review_overdue"] = "lapse"
	s, err := Parse("p.yaml", doc(a, b), Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	tests := []struct {
		now    string
		within time.Duration
		want   string
	}{
		{"2026-07-01", 30 * day, ""},
		{"2026-08-15", 30 * day, "p-security-case-determination@1 review by 2026-09-01: due"},
		{"2026-09-01", 30 * day, "p-security-case-determination@1 review by 2026-09-01: overdue"},
		{"2026-12-02", 0, "p-security-case-determination@1 review by 2026-09-01: overdue|later@1 review by 2026-12-01: overdue, lapsed (not enforced)"},
	}
	for _, tc := range tests {
		t.Run(tc.now, func(t *testing.T) {
			now, _ := time.Parse("2006-01-02", tc.now)
			var got []string
			for _, r := range s.Reviews(now, tc.within) {
				got = append(got, r.String())
			}
			if g := strings.Join(got, "|"); g != tc.want {
				t.Fatalf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
	p := s.Lookup("later")
	if !p.Lapses() || p.ReviewOverdue(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) || !p.ReviewOverdue(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("overdue boundary")
	}
}

func TestWarningsForProposedChanges(t *testing.T) {
	cat := catalog(t)
	e, _ := cat.Lookup("infeasibility.manner-exhausted")
	s, err := Parse("p.yaml", doc(complete(e, "deny")), Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0].Msg, "at risk") {
		t.Fatalf("warnings %v", s.Warnings)
	}
}

func TestLabelsMatchBothSystems(t *testing.T) {
	cat := catalog(t)
	e, _ := cat.Lookup("privacy.precondition-not-satisfied")
	p := complete(e, "redact")
	p["match"].(map[string]any)["security_labels"] = []string{SystemActUSPrivacyLaw + "|42CFRPart2", SystemActCode + "|ETH", "urn:local|X"}
	s, err := Parse("p.yaml", doc(p), Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for c := range s.Policies()[0].Labels() {
		got = append(got, c.String())
	}
	slices.Sort(got)
	want := []string{
		SystemActCode + "|42CFRPart2", SystemActCode + "|ETH", SystemActUSPrivacyLaw + "|42CFRPart2",
		SystemConfidentiality + "|ETH", "urn:local|X",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
}
