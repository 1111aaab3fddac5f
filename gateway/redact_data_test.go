package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/fhir/fhirdata"
	"github.com/ehigate/ehigate/gateway"
)

// dataSet withholds resources labeled ETH (either system) or 42CFRPart2,
// or confidentiality R, and every MedicationRequest: the predicate
// withheldBy mirrors it.
func dataSet(t testing.TB) *policy.Set {
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	y := "policies:\n" +
		testPolicy("part2", "redact", "privacy.precondition-not-satisfied",
			"security_labels:\n  - http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw|42CFRPart2\n  - http://terminology.hl7.org/CodeSystem/v3-ActCode|ETH\n  - http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R\n", "", "", "", privacyB) +
		testPolicy("no-meds", "redact", "infeasibility.segmentation", "resource_types: [MedicationRequest]\n", "", "", "", segDocs)
	set, err := policy.Parse("data.yaml", []byte(y), policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// withheldBy is the test's own statement of dataSet: a resource is
// withheld when it, one of its contained resources or an entry of a
// document or message Bundle matches.
func withheldBy(res map[string]any) bool {
	if res["resourceType"] == "MedicationRequest" {
		return true
	}
	cs, _ := res["contained"].([]any)
	if t := res["type"]; res["resourceType"] == "Bundle" && (t == "document" || t == "message") {
		es, _ := res["entry"].([]any)
		for _, e := range es {
			m, _ := e.(map[string]any)
			cs = append(cs, m["resource"])
		}
	}
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok && withheldBy(m) {
			return true
		}
	}
	meta, _ := res["meta"].(map[string]any)
	secs, _ := meta["security"].([]any)
	for _, s := range secs {
		c, _ := s.(map[string]any)
		sys, code := c["system"], c["code"]
		switch {
		case code == "42CFRPart2" && (sys == usPrivacyLaw || sys == actCode),
			code == "ETH" && (sys == actCode || sys == confid),
			code == "R" && sys == confid:
			return true
		}
	}
	return false
}

// bodyEHR serves whatever body it is given, as FHIR JSON.
type bodyEHR struct{ body []byte }

func (b *bodyEHR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Write(b.body)
}

func dataHarness(t *testing.T) (*harness, *bodyEHR) {
	ehr := &bodyEHR{}
	e := engine.New(dataSet(t), engine.Options{})
	hs := newHarness(t, ehr, func(o *gateway.Options) { o.Decider = e })
	return hs, ehr
}

type entry struct {
	Resource json.RawMessage `json:"resource"`
	Search   struct {
		Mode string `json:"mode"`
	} `json:"search"`
}

// checkRedacted checks the invariants of a redacted body against its
// input: valid JSON; no withheld resource in it; every kept resource
// byte-identical to the input (nested Bundles compared entry by entry);
// withheld counts what was dropped.
func checkRedacted(t *testing.T, name string, in, out []byte) (withheld []string) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("%s: output is not valid JSON", name)
	}
	var inRes, outRes map[string]json.RawMessage
	if json.Unmarshal(in, &inRes) != nil || json.Unmarshal(out, &outRes) != nil {
		t.Fatalf("%s: not objects", name)
	}
	var inEntries, outEntries []entry
	json.Unmarshal(inRes["entry"], &inEntries)
	json.Unmarshal(outRes["entry"], &outEntries)
	kept := map[string]bool{}
	for _, e := range outEntries {
		if e.Search.Mode == "outcome" && bytes.Contains(e.Resource, []byte(`"suppressed"`)) {
			continue // the disclosure entry
		}
		kept[string(e.Resource)] = true
	}
	// Nested Bundles are filtered too: compare them recursively.
	var outNested [][]byte
	for _, e := range outEntries {
		if bytes.Contains(e.Resource[:min(len(e.Resource), 64)], []byte(`"Bundle"`)) {
			outNested = append(outNested, e.Resource)
		}
	}
	for _, e := range inEntries {
		if len(e.Resource) == 0 {
			continue
		}
		var res map[string]any
		if json.Unmarshal(e.Resource, &res) != nil {
			continue
		}
		id := fmt.Sprintf("%v/%v", res["resourceType"], res["id"])
		switch {
		case withheldBy(res):
			if kept[string(e.Resource)] {
				t.Errorf("%s: withheld %s is in the output", name, id)
			}
			withheld = append(withheld, id)
		case res["resourceType"] == "Bundle" && !kept[string(e.Resource)]:
			if len(outNested) == 0 {
				t.Errorf("%s: nested Bundle %s is missing", name, id)
				continue
			}
			withheld = append(withheld, checkRedacted(t, name+">"+id, e.Resource, outNested[0])...)
			outNested = outNested[1:]
		case !kept[string(e.Resource)]:
			t.Errorf("%s: kept %s is not byte-identical in the output", name, id)
		}
	}
	return withheld
}

// TestRedactionOverR4Examples sends every HL7 R4 example through the
// gateway under dataSet: output is valid JSON, no withheld resource leaks
// and every kept resource is byte-identical to the input.
func TestRedactionOverR4Examples(t *testing.T) {
	files := fhirdata.Examples(t)
	hs, ehr := dataHarness(t)
	c := client()
	withheld, bundles := 0, 0
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]any
		if json.Unmarshal(in, &top) != nil {
			continue
		}
		name := filepath.Base(f)
		ehr.body = in
		resp, out := get(t, c, hs.base+"/Basic?example="+strings.TrimSuffix(name, ".json"))
		switch {
		case top["resourceType"] == "Bundle" && !withheldBy(top):
			bundles++
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d: %s", name, resp.StatusCode, out)
			}
			withheld += len(checkRedacted(t, name, in, out))
		case withheldBy(top):
			withheld++
			if resp.StatusCode != 403 || bytes.Contains(out, in[:min(len(in), 200)]) {
				t.Fatalf("%s: withheld resource answered %d: %.200s", name, resp.StatusCode, out)
			}
			validR4(t, out)
		default:
			if resp.StatusCode != 200 || !bytes.Equal(in, out) {
				t.Fatalf("%s: kept resource changed (status %d)", name, resp.StatusCode)
			}
		}
	}
	if withheld == 0 || bundles == 0 {
		t.Fatalf("the examples exercised nothing: %d withheld, %d bundles", withheld, bundles)
	}
	t.Logf("%d examples, %d bundles, %d resources withheld", len(files), bundles, withheld)
}

// labelSynthea turns a Synthea transaction into a searchset and labels
// some of its resources: every Condition ETH (v3-ActCode), every fifth
// Observation 42CFRPart2 (v3-ActUSPrivacyLaw), every Procedure N (kept).
func labelSynthea(t testing.TB, raw []byte) []byte {
	var b struct {
		Entry []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Skipf("synthea file does not parse: %v", err)
	}
	var entries []string
	obs := 0
	for _, e := range b.Entry {
		r := e.Resource
		var sec map[string]string
		switch r["resourceType"] {
		case "Condition":
			sec = map[string]string{"system": actCode, "code": "ETH"}
		case "Observation":
			if obs++; obs%5 == 0 {
				sec = map[string]string{"system": usPrivacyLaw, "code": "42CFRPart2"}
			}
		case "Procedure":
			sec = map[string]string{"system": confid, "code": "N"}
		}
		if sec != nil {
			r["meta"] = map[string]any{"security": []any{sec}}
		}
		rb, _ := json.Marshal(r)
		entries = append(entries, fmt.Sprintf(`{"fullUrl":%q,"resource":%s,"search":{"mode":"match"}}`, e.FullURL, rb))
	}
	return []byte(fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","total":%d,"entry":[%s]}`, len(entries), strings.Join(entries, ",")))
}

var decisionID = regexp.MustCompile(`decision [0-9A-Z]{26}`)

// TestSyntheaRedactionGolden redacts a real Synthea patient (labels added
// here) and compares a summary with testdata: what was withheld, the
// disclosure entry, the fixed total and the SHA-256 of the body (the data
// itself stays outside the repository).
func TestSyntheaRedactionGolden(t *testing.T) {
	file := smallestSynthea(t, 1)[0]
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	in := labelSynthea(t, raw)
	hs, ehr := dataHarness(t)
	ehr.body = in
	resp, out := get(t, client(), hs.base+"/Observation?patient=x")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	withheld := checkRedacted(t, filepath.Base(file), in, out)
	slices.Sort(withheld)
	var b struct {
		Total int     `json:"total"`
		Entry []entry `json:"entry"`
	}
	json.Unmarshal(out, &b)
	var disclosure json.RawMessage
	for _, e := range b.Entry {
		if e.Search.Mode == "outcome" {
			disclosure = e.Resource
		}
	}
	if disclosure == nil {
		t.Fatal("no disclosure entry")
	}
	validR4(t, disclosure)
	norm := decisionID.ReplaceAll(out, []byte("decision ID"))
	sum := sha256.Sum256(norm)
	var types []string
	for _, w := range withheld {
		types = append(types, strings.SplitN(w, "/", 2)[0])
	}
	summary := map[string]any{
		"source":     filepath.Base(file),
		"entries_in": strings.Count(string(in), `"search":{"mode":"match"}`),
		"total":      b.Total,
		"withheld":   len(withheld),
		"types":      slices.Compact(types),
		"disclosure": json.RawMessage(decisionID.ReplaceAll(disclosure, []byte("decision ID"))),
		"sha256":     hex.EncodeToString(sum[:]),
	}
	js, _ := json.Marshal(summary)
	golden(t, "synthea-redaction.golden.json", js)
	recs := hs.records()
	if len(recs) != 1 || len(recs[0].Withheld) != len(withheld) || recs[0].Action != decision.Redact {
		t.Fatalf("record: %+v", recs)
	}
	for _, w := range recs[0].Withheld {
		if w.Policy != "part2" && w.Policy != "no-meds" {
			t.Fatalf("withheld %+v", w)
		}
	}
}

var _ = io.Discard
