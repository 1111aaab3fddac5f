package gateway_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/gateway"
)

// testPolicy renders one restricting policy with complete documentation;
// docExtra and noticeExtra are added to documentation and notice, extra
// to the policy.
func testPolicy(id, action, exception, match, docExtra, noticeExtra, extra string, conditions map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - id: %s\n    version: \"1\"\n    description: test policy %s\n    action: %s\n    exception: %s\n", id, id, action, exception)
	fmt.Fprintf(&b, "    match:\n%s", indent(match, 6))
	b.WriteString(`    documentation:
      rationale: tested
      decided_by: {name: Pat Example, role: privacy officer, credentials: "MD"}
      decided_at: 2026-03-01
      ehi_scope: the resources matched
      minimum_necessary: only labeled resources
      review_by: 2026-12-31
      evidence: [risk analysis RA-7]
`)
	b.WriteString(docExtra)
	if len(conditions) > 0 {
		b.WriteString("      conditions:\n")
		for k, v := range conditions {
			fmt.Fprintf(&b, "        %s: %s\n", k, v)
		}
	}
	fmt.Fprintf(&b, "    notice:\n      message: Withheld by %s.\n      next_step: Ask the privacy office.\n      contact: privacy@example.org\n", id)
	b.WriteString(noticeExtra)
	b.WriteString(extra)
	return b.String()
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, pad+l)
	}
	return strings.Join(out, "\n") + "\n"
}

var (
	privacyB = map[string]string{"precondition": "42 CFR Part 2 consent", "criteria": "a signed Part 2 consent naming the recipient", "basis": "written-policy"}
	segDocs  = map[string]string{"withheld_category": "psychotherapy notes", "withheld_basis": "held under the privacy exception", "segmentation_limitation": "scanned"}
)

// redactionSet is the policy set of the redaction tests.
func redactionSet(t testing.TB) *policy.Set {
	t.Helper()
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	y := "policies:\n" +
		testPolicy("part2", "redact", "privacy.precondition-not-satisfied",
			"security_labels:\n  - http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw|42CFRPart2\n  - http://terminology.hl7.org/CodeSystem/v3-ActCode|ETH\n", "", "", "", privacyB) +
		testPolicy("very-restricted", "redact", "privacy.precondition-not-satisfied",
			"security_labels: [\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V\"]\n",
			"      nondisclosure_reason: telling would reveal the diagnosis\n      conceal_existence_reason: the record's existence is itself sensitive\n",
			"      status: 404\n", "    disclose_withholding: false\n", privacyB) +
		testPolicy("legacy-notes", "redact", "infeasibility.segmentation", "resource_types: [Media]\n", "", "", "", segDocs) +
		testPolicy("no-legacy-docs", "deny", "infeasibility.segmentation", "resource_types: [DocumentReference]\n", "", "", "", segDocs)
	set, err := policy.Parse("test.yaml", []byte(y), policy.Options{Catalog: cat})
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return set
}

func label(system, code string) string {
	return fmt.Sprintf(`"meta":{"security":[{"system":%q,"code":%q}]},`, system, code)
}

const (
	actCode      = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	usPrivacyLaw = "http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw"
	confid       = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
)

// redactionEHR serves the resources of the redaction tests.
func redactionEHR(t *testing.T) http.Handler {
	res := map[string]string{
		"Observation/eth":   `{"resourceType":"Observation","id":"eth",` + label(actCode, "ETH") + `"status":"final","subject":{"reference":"Patient/p1"}}`,
		"Observation/plain": `{"resourceType":"Observation","id":"plain","status":"final","subject":{"reference":"Patient/p1"}}`,
		"Condition/p2":      `{"resourceType":"Condition","id":"p2",` + label(usPrivacyLaw, "42CFRPart2") + `"subject":{"reference":"Patient/p1"}}`,
		"Condition/v":       `{"resourceType":"Condition","id":"v",` + label(confid, "V") + `"subject":{"reference":"Patient/p1"}}`,
		"Media/m1":          `{"resourceType":"Media","id":"m1","status":"completed","content":{"contentType":"image/png"}}`,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/baseR4/")
		switch {
		case path == "Observation" || path == "Condition" || path == "Media":
			var entries []string
			for k, v := range res {
				if strings.HasPrefix(k, path+"/") {
					entries = append(entries, fmt.Sprintf(`{"fullUrl":"http://%s/baseR4/%s","resource":%s,"search":{"mode":"match"}}`, r.Host, k, v))
				}
			}
			sort.Strings(entries) // a stable order, as the records list withholdings in it
			w.Header().Set("Content-Type", "application/fhir+json")
			fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":%d,"entry":[%s]}`, len(entries), strings.Join(entries, ","))
		case path == "Observation/xml":
			w.Header().Set("Content-Type", "application/fhir+xml")
			io.WriteString(w, `<Observation xmlns="http://hl7.org/fhir"><id value="xml"/></Observation>`)
		case path == "Observation/br":
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Content-Encoding", "br")
			io.WriteString(w, "not really brotli")
		case path == "Observation/big":
			w.Header().Set("Content-Type", "application/fhir+json")
			fmt.Fprintf(w, `{"resourceType":"Observation","id":"big","note":[{"text":%q}]}`, strings.Repeat("x", 64<<10))
		case path == "Observation/bad":
			w.Header().Set("Content-Type", "application/fhir+json")
			io.WriteString(w, `{"resourceType":"Observation","id":"bad",`+label(actCode, "ETH"))
		case path == "Observation/gz":
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, res["Observation/eth"])
			zw.Close()
		case path == "Observation/export.ndjson":
			w.Header().Set("Content-Type", "application/fhir+ndjson")
			for _, k := range []string{"Observation/eth", "Observation/plain", "Condition/p2"} {
				io.WriteString(w, res[k]+"\n")
			}
		default:
			v, ok := res[path]
			if !ok {
				w.Header().Set("Content-Type", "application/fhir+json")
				w.WriteHeader(404)
				io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)
				return
			}
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("ETag", `W/"1"`)
			io.WriteString(w, v)
		}
	})
}

func newRedactionHarness(t *testing.T) *harness {
	e := engine.New(redactionSet(t), engine.Options{})
	return newHarness(t, redactionEHR(t), func(o *gateway.Options) {
		o.Decider = e
		o.Limits.MaxResource = 16 << 10
	})
}

func TestRedaction(t *testing.T) {
	hs := newRedactionHarness(t)
	c := client()
	type want struct {
		status   int
		contains []string
		absent   []string
		withheld []string // type/id recorded
		reason   string
		flags    []decision.Flag
		notice   bool // a notice item was opened
	}
	tests := []struct {
		name   string
		path   string
		accept string
		want   want
	}{
		{"search withholds labeled entries and discloses", "/Observation", "", want{status: 200,
			contains: []string{`"id":"plain"`, `"mode":"outcome"`, `1 resource was withheld`, `privacy.precondition-not-satisfied`, `"total":1`},
			absent:   []string{`"id":"eth"`}, withheld: []string{"Observation/eth"}}},
		{"undisclosed withholding", "/Condition", "", want{status: 200,
			contains: []string{`1 resource was withheld`, `"total":0`}, absent: []string{`"id":"p2"`, `"id":"v"`, "very-restricted"},
			withheld: []string{"Condition/p2", "Condition/v"}}},
		{"read of a kept resource", "/Observation/plain", "", want{status: 200, contains: []string{`"id":"plain"`}}},
		{"read of a withheld resource", "/Observation/eth", "", want{status: 403,
			contains: []string{`"code":"suppressed"`, `privacy.precondition-not-satisfied`, "policy part2@1", "Withheld by part2."},
			absent:   []string{`"id":"eth"`, `"status":"final"`}, withheld: []string{"Observation/eth"}}},
		{"read of a gzip withheld resource", "/Observation/gz", "", want{status: 403,
			contains: []string{"policy part2@1"}, absent: []string{`"status":"final"`}, withheld: []string{"Observation/eth"}}},
		{"read answered 404 when existence is concealed", "/Condition/v", "", want{status: 404,
			contains: []string{`"code":"not-found"`}, absent: []string{"very-restricted", "privacy", `"id":"v"`}, withheld: []string{"Condition/v"}}},
		{"withholding with a written-response duty", "/Media/m1", "", want{status: 403,
			contains: []string{"infeasibility.segmentation"}, withheld: []string{"Media/m1"}, notice: true,
			flags: []decision.Flag{decision.FlagNoticeRequired}}},
		{"upstream not found passes", "/Observation/missing", "", want{status: 404, contains: []string{`"not-found"`}}},
		{"XML asked for", "/Observation/plain?_format=xml", "", want{status: 406,
			contains: []string{"application/fhir+json"}, reason: "response-not-filterable", flags: []decision.Flag{decision.FlagResponseNotFiltered}}},
		{"XML answered", "/Observation/xml", "", want{status: 502,
			absent: []string{"<Observation"}, reason: "response-not-filterable", flags: []decision.Flag{decision.FlagResponseNotFiltered}}},
		{"unknown encoding", "/Observation/br", "", want{status: 502,
			absent: []string{"brotli"}, reason: "response-not-filterable"}},
		{"resource over max_resource", "/Observation/big", "", want{status: 502,
			absent: []string{"xxxx"}, reason: "response-not-filterable", flags: []decision.Flag{decision.FlagResponseNotFiltered}}},
		{"malformed JSON", "/Observation/bad", "", want{status: 502,
			absent: []string{"ETH"}, reason: "response-not-filterable"}},
		{"NDJSON line by line", "/Observation/export.ndjson", "", want{status: 200,
			contains: []string{`"id":"plain"`}, absent: []string{`"id":"eth"`, `"id":"p2"`}, withheld: []string{"Observation/eth", "Condition/p2"}}},
	}
	ids := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", hs.base+tc.path, nil)
			req.Header.Set("Accept-Encoding", "identity")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want.status, body)
			}
			for _, s := range tc.want.contains {
				if !bytes.Contains(body, []byte(s)) {
					t.Errorf("body lacks %s:\n%s", s, body)
				}
			}
			for _, s := range tc.want.absent {
				if bytes.Contains(body, []byte(s)) {
					t.Errorf("body has %s:\n%s", s, body)
				}
			}
			if resp.StatusCode >= 400 || resp.Header.Get("Content-Type") == "application/fhir+json" {
				if !json.Valid(body) {
					t.Errorf("body is not JSON: %s", body)
				}
			}
			if resp.StatusCode != 200 {
				validR4(t, body)
			}
			ids[tc.name] = resp.Header.Get(gateway.HeaderDecision)
		})
	}
	recs := byID(t, hs.records())
	for _, tc := range tests {
		r, ok := recs[ids[tc.name]]
		if !ok {
			t.Errorf("%s: no record", tc.name)
			continue
		}
		if r.Status != tc.want.status {
			t.Errorf("%s: recorded status %d", tc.name, r.Status)
		}
		var got []string
		for _, w := range r.Withheld {
			got = append(got, w.Type+"/"+w.ID)
			if w.Policy == "" || w.Count != 1 {
				t.Errorf("%s: withheld %+v", tc.name, w)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want.withheld, ",") {
			t.Errorf("%s: withheld %v, want %v", tc.name, got, tc.want.withheld)
		}
		if r.Reason != tc.want.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, r.Reason, tc.want.reason)
		}
		for _, f := range tc.want.flags {
			if !r.HasFlag(f) {
				t.Errorf("%s: flags %v lack %s", tc.name, r.Flags, f)
			}
		}
		if (r.Notice != nil) != tc.want.notice {
			t.Errorf("%s: notice item %+v", tc.name, r.Notice)
		}
		if r.Action != decision.Redact || r.PolicySet == "" || len(r.Policies) < 3 || r.Exception == nil || r.Exception.CatalogVersion == "" {
			t.Errorf("%s: record %s policies %d exception %+v", tc.name, r.Action, len(r.Policies), r.Exception)
		}
	}
}

func TestDenyOpensNoticeItem(t *testing.T) {
	hs := newRedactionHarness(t)
	at := time.Now()
	resp, body := get(t, client(), hs.base+"/DocumentReference/d1")
	if resp.StatusCode != 403 || !bytes.Contains(body, []byte("infeasibility.segmentation")) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	validR4(t, body)
	recs := hs.records()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Action != decision.Deny || !r.HasFlag(decision.FlagNoticeRequired) || r.Notice == nil || r.Notice.Exception != "infeasibility.segmentation" {
		t.Fatalf("record %+v", r)
	}
	if d := r.Notice.DueAt.Sub(at); d < 10*24*time.Hour || d > 20*24*time.Hour {
		t.Fatalf("due %s after receipt", d)
	}
}

// TestRedactionBatchResponse: a withheld resource in a batch answer is
// replaced in place, so that each response entry still answers its
// request entry: a 403 with the policy's notice, or a bare 404 where the
// policy conceals the withholding.
func TestRedactionBatchResponse(t *testing.T) {
	res := map[string]string{}
	ehr := redactionEHR(t)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || strings.Trim(r.URL.Path, "/") != "baseR4" {
			ehr.ServeHTTP(w, r)
			return
		}
		var entries []string
		for _, k := range []string{"Observation/plain", "Observation/eth", "Condition/v"} {
			rec := httptest.NewRecorder()
			ehr.ServeHTTP(rec, httptest.NewRequest("GET", "/baseR4/"+k, nil))
			res[k] = rec.Body.String()
			entries = append(entries, fmt.Sprintf(`{"resource":%s,"response":{"status":"200 OK"}}`, rec.Body.String()))
		}
		entries = append(entries, `{"response":{"status":"201 Created","location":"Patient/new/_history/1"}}`)
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"batch-response","entry":[%s]}`, strings.Join(entries, ",\n  "))
	})
	e := engine.New(redactionSet(t), engine.Options{})
	hs := newHarness(t, upstream, func(o *gateway.Options) { o.Decider = e })
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
		{"request":{"method":"GET","url":"Observation/plain"}},
		{"request":{"method":"GET","url":"Observation/eth"}},
		{"request":{"method":"GET","url":"Condition/v"}},
		{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`
	req, _ := http.NewRequest("POST", hs.base, strings.NewReader(batch))
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got struct {
		Type  string
		Entry []struct {
			Resource json.RawMessage
			Response struct {
				Status  string
				Outcome json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Entry) != 4 {
		t.Fatalf("%d entries for 4 requests:\n%s", len(got.Entry), body)
	}
	wantStatus := []string{"200 OK", "403 Forbidden", "404 Not Found", "201 Created"}
	for i, e := range got.Entry {
		if e.Response.Status != wantStatus[i] {
			t.Errorf("entry %d: status %q, want %q", i, e.Response.Status, wantStatus[i])
		}
	}
	if !bytes.Contains(got.Entry[0].Resource, []byte(`"id":"plain"`)) {
		t.Errorf("kept entry lost its resource: %s", got.Entry[0].Resource)
	}
	if o := got.Entry[1].Response.Outcome; !bytes.Contains(o, []byte("policy part2@1")) || !bytes.Contains(o, []byte(`"code":"suppressed"`)) {
		t.Errorf("withheld entry's outcome: %s", o)
	} else {
		validR4(t, o)
	}
	for _, absent := range []string{`"id":"eth"`, `"id":"v"`, "very-restricted", "42CFRPart2"} {
		if bytes.Contains(body, []byte(absent)) {
			t.Errorf("body has %s", absent)
		}
	}
	id := resp.Header.Get(gateway.HeaderDecision)
	if !bytes.Contains(got.Entry[1].Response.Outcome, []byte("decision "+id)) {
		t.Errorf("the withheld entry's outcome does not name decision %s: %s", id, got.Entry[1].Response.Outcome)
	}
	r, ok := byID(t, hs.records())[id]
	if !ok {
		t.Fatal("no record")
	}
	if len(r.Withheld) != 2 {
		t.Errorf("record withheld %+v", r.Withheld)
	}
}
