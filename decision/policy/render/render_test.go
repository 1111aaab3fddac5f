package render

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// examplesDir holds the example policies the project ships.
var examplesDir = filepath.Join("..", "..", "..", "configs", "policies")

func examples(t *testing.T) *policy.Set {
	t.Helper()
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Load([]string{examplesDir}, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// journal is an EntrySource over entries kept in memory.
type journal map[string][]decision.Entry

func (j journal) RecordEntries(_ context.Context, id string) ([]decision.Entry, error) {
	return j[id], nil
}

// add appends a policy-set entry as the gateway journals it.
func (j journal) add(t *testing.T, recordID string, ps decision.PolicySet) {
	t.Helper()
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	seq := uint64(0)
	for _, es := range j {
		seq += uint64(len(es))
	}
	j[recordID] = append(j[recordID], decision.Entry{Chain: "gw", Seq: seq + 1, Kind: decision.KindPolicySet, RecordID: recordID, At: ps.At, Payload: b})
}

var (
	setA = time.Date(2026, 9, 21, 8, 0, 0, 0, time.UTC)
	setB = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
)

// history journals two sets: an older one with version 1 of the harm
// policy and a policy since retired, then the examples as they are.
func history(t *testing.T, set *policy.Set) journal {
	j := journal{}
	old := []decision.PolicyRef{
		{ID: "harm-pat-0412-representative", Version: "1", SHA256: strings.Repeat("1", 64), Action: decision.Deny},
		{ID: "weekend-maintenance", Version: "3", SHA256: strings.Repeat("2", 64), Action: decision.Deny},
	}
	for _, p := range set.Policies() {
		if p.ID != "harm-pat-0412-representative" {
			old = append(old, p.Ref())
		}
	}
	oldTexts := []decision.PolicyText{{ID: "harm-pat-0412-representative", Version: "1", SHA256: strings.Repeat("1", 64), Text: json.RawMessage(`{"id":"harm-pat-0412-representative","version":"1","action":"deny"}`)}}
	j.add(t, policy.RecordID("hash-a"), decision.PolicySet{ID: "a", At: setA, Hash: "hash-a", Policies: old, CatalogVersion: "2026.07.1", Texts: oldTexts})
	j.add(t, policy.LatestRecordID, decision.PolicySet{ID: "a2", At: setA, Hash: "hash-a", Policies: old, CatalogVersion: "2026.07.1"})
	cur := set.Entry("b", setB)
	j.add(t, policy.RecordID(set.Hash()), cur)
	cur.Texts = nil
	j.add(t, policy.LatestRecordID, cur)
	return j
}

func TestLoadHistory(t *testing.T) {
	set := examples(t)
	h, err := LoadHistory(context.Background(), history(t, set))
	if err != nil {
		t.Fatal(err)
	}
	harm := h.Versions["harm-pat-0412-representative"]
	if len(harm) != 2 || harm[0].Version != "1" || harm[1].Version != "2" {
		t.Fatalf("harm versions %+v", harm)
	}
	if p := harm[0].Periods; len(p) != 1 || !p[0].From.Equal(setA) || !p[0].To.Equal(setB) {
		t.Errorf("version 1 periods %+v", p)
	}
	if p := harm[1].Periods; len(p) != 1 || !p[0].From.Equal(setB) || !p[0].To.IsZero() || !harm[1].Current() {
		t.Errorf("version 2 periods %+v", p)
	}
	if harm[0].Text == nil || harm[1].Text == nil {
		t.Error("texts not read")
	}
	if p, err := harm[1].Policy(); err != nil || p.Documentation.DecidedBy.Name != "Dr. Amara Chen" {
		t.Errorf("decoded text %+v, %v", p, err)
	}
	rate := h.Versions["app-rate-limit"]
	if len(rate) != 1 || len(rate[0].Periods) != 1 || !rate[0].Periods[0].From.Equal(setA) {
		t.Errorf("a version in both sets is one period: %+v", rate)
	}
	weekend := h.Versions["weekend-maintenance"][0]
	if weekend.Current() || !weekend.InForce(setA, setA.Add(time.Hour)) || weekend.InForce(setB, time.Time{}) {
		t.Errorf("retired version %+v", weekend)
	}
	if got := len(h.InForce(setB.Add(time.Hour), time.Time{})); got != len(set.Policies()) {
		t.Errorf("%d versions in force now, want %d", got, len(set.Policies()))
	}
	if len(h.Sets) != 2 || h.Sets[1].Hash != set.Hash() {
		t.Errorf("sets %+v", h.Sets)
	}
}

func input(t *testing.T) Input {
	set := examples(t)
	h, err := LoadHistory(context.Background(), history(t, set))
	if err != nil {
		t.Fatal(err)
	}
	return Input{
		Scope:    "The policies configured in configs/policies.",
		Policies: Items(set), History: h, Catalog: set.Catalog(), PolicySet: set.Hash(),
		AsOf: time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC), RelativeTo: examplesDir,
	}
}

func TestGolden(t *testing.T) {
	in := input(t)
	for _, tc := range []struct {
		name   string
		render func(*bytes.Buffer, Input) error
	}{
		{"written-policy.golden.html", func(b *bytes.Buffer, in Input) error { return HTML(b, in) }},
		{"written-policy.golden.md", func(b *bytes.Buffer, in Input) error { return Markdown(b, in) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := tc.render(&out, in); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, want := range []string{
				// Every restriction, its exception and cite from the catalog.
				"block-client-7f3a", "Security Exception", "45 CFR 171.203", "part2-non-treating", "45 CFR 171.202(b)",
				// Decider, evidence, conditions, notice, reviews.
				"Dr. Amara Chen", "Incident report IR-2026-114", "clinician", "him@example-health.org", "Circumstances unchanged",
				// Overdue (lapsing) and due reviews are marked.
				"OVERDUE: the policy has lapsed", "due within 30 days",
				// Version history with the dates each version took effect.
				"2026-09-21", "2026-11-29", "111111111111",
				// The retired policy.
				"weekend-maintenance",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("lacks %q", want)
				}
			}
			golden(t, tc.name, out.Bytes())
		})
	}
}

// TestSelfContained: the HTML page loads nothing from elsewhere.
func TestSelfContained(t *testing.T) {
	var out bytes.Buffer
	if err := HTML(&out, input(t)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url("} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestEscaping(t *testing.T) {
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	src := `policies:
  - id: odd-text
    version: "1"
    description: "A <b>bold</b> | *claim* [link](x)"
    action: deny
    exception: security.case-determination
    match: {requester: {client_id: [app-1]}}
    documentation:
      rationale: "<script>alert(1)</script> # not a heading"
      decided_by: {name: "A_B", role: CISO}
      decided_at: 2026-11-28
      ehi_scope: every request
      minimum_necessary: only this client
      review_by: 2026-12-28
      evidence: ["IR-1"]
      conditions:
        specific_risk: r
        facts: f
        alternatives_considered: a
        why_alternatives_rejected: w
    notice: {message: m, next_step: n, contact: c}
`
	set, err := policy.Parse("odd.yaml", []byte(src), policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Policies: Items(set), Catalog: cat}
	var h, m bytes.Buffer
	if err := HTML(&h, in); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&m, in); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.String(), "<script>alert") || strings.Contains(h.String(), "<b>bold") {
		t.Errorf("HTML not escaped:\n%s", h.String())
	}
	for _, want := range []string{`\<script\>`, `\*claim\*`, `\[link\]`, `\|`, `A\_B`, `\# not a heading`} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("Markdown lacks %s", want)
		}
	}
}

// golden compares b with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("%s differs (run go test -update after checking):\n%s", path, b)
	}
}
