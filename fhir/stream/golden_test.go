package stream

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/fhir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// labelPolicy withholds resources carrying a sensitive meta.security code.
func labelPolicy(r *fhir.Resource) Verdict {
	for _, c := range r.Security() {
		switch c.Code {
		case "R", "PSY", "SUD", "42CFRPart2":
			return Verdict{Withhold: true, Tag: "sensitive-" + c.Code}
		}
	}
	return Verdict{}
}

// outcomeEntry discloses withheld resources as a search outcome entry
// that counts them by tag, never naming them.
func outcomeEntry(w []Withheld) []byte {
	tags := map[string]int{}
	for _, x := range w {
		tags[x.Tag]++
	}
	var parts []string
	for _, tag := range slices.Sorted(func(yield func(string) bool) {
		for k := range tags {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%s: %d", tag, tags[tag]))
	}
	type issue struct {
		Severity    string `json:"severity"`
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics"`
	}
	e := map[string]any{
		"resource": map[string]any{
			"resourceType": "OperationOutcome",
			"issue": []issue{{
				Severity:    "information",
				Code:        "suppressed",
				Diagnostics: fmt.Sprintf("%d resources withheld (%s)", len(w), strings.Join(parts, ", ")),
			}},
		},
		"search": map[string]string{"mode": "outcome"},
	}
	b, _ := json.Marshal(e)
	return b
}

// TestGolden runs each testdata/*.in.json through the gateway's chain
// (filter with disclosure and total fixing, then base URL rewriting) and
// compares the bytes with testdata/*.golden.json.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join("testdata", "*.in.json"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var f *Filter
			r := NewReader(io.NopCloser(bytes.NewReader(src)), func(w io.Writer) io.WriteCloser {
				rw := NewRewriter(w, URLReplacements("http://ehr.local/fhir", "https://gateway.example/fhir"))
				f = NewFilter(rw, Options{Inspect: labelPolicy, Disclose: outcomeEntry, FixTotal: true, Strict: true})
				return f
			})
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("output is not valid JSON:\n%s", got)
			}
			if f.Stats().WithheldCount == 0 {
				t.Fatal("the fixture withholds nothing")
			}
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("output differs from %s (run go test -update after checking):\n%s", golden, got)
			}
		})
	}
}
