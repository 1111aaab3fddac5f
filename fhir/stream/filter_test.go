package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/fhir"
)

// withholdW withholds resources whose id starts with "w", tagging them
// with the resource type.
func withholdW(r *fhir.Resource) Verdict {
	if strings.HasPrefix(r.ID, "w") {
		return Verdict{Withhold: true, Tag: "policy-" + r.Type}
	}
	return Verdict{}
}

// discloseCount returns an outcome entry naming how many were withheld.
// replaceForbidden is a batch-response entry refusing w.
func replaceForbidden(w Withheld) []byte {
	return fmt.Appendf(nil, `{"response":{"status":"403 Forbidden","outcome":{"resourceType":"OperationOutcome","id":%q}}}`, w.ID)
}

func discloseCount(w []Withheld) []byte {
	return fmt.Appendf(nil, `{"resource":{"resourceType":"OperationOutcome","id":"withheld-%d"},"search":{"mode":"outcome"}}`, len(w))
}

// runFilter filters in, written in chunks of the given size (0: at once).
func runFilter(t testing.TB, opts Options, in []byte, chunk int) ([]byte, Stats, error) {
	t.Helper()
	return runFilterPath(t, opts, in, chunk, false)
}

// runFilterPath is runFilter with the fast path (fast.go) on or off.
func runFilterPath(t testing.TB, opts Options, in []byte, chunk int, lexOnly bool) ([]byte, Stats, error) {
	t.Helper()
	var out bytes.Buffer
	f := NewFilter(&out, opts)
	f.noFast = lexOnly
	var err error
	if chunk <= 0 {
		chunk = len(in) + 1
	}
	for p := in; len(p) > 0 && err == nil; {
		n := min(chunk, len(p))
		_, err = f.Write(p[:n])
		p = p[n:]
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return out.Bytes(), f.Stats(), err
}

func TestFilter(t *testing.T) {
	obs := func(id, extra string) string {
		return `{"resourceType":"Observation","id":"` + id + `","subject":{"reference":"Patient/p1"}` + extra + `}`
	}
	entry := func(id string) string { return `{"resource":` + obs(id, "") + `}` }
	search := func(id, mode string) string {
		return `{"fullUrl":"http://up/fhir/Observation/` + id + `","resource":` + obs(id, "") + `,"search":{"mode":"` + mode + `"}}`
	}
	bundle := func(typ, members string, entries ...string) string {
		return `{"resourceType":"Bundle","type":"` + typ + `"` + members + `,"entry":[` + strings.Join(entries, ",") + `]}`
	}
	tests := []struct {
		name      string
		opts      Options
		in        string
		want      string
		withheld  int
		resources map[string]int
		patients  []string
		stats     func(t *testing.T, s Stats)
		wantErr   error
	}{
		{
			name:      "keep all without Inspect",
			in:        bundle("searchset", "", search("a", "match"), search("b", "include")),
			want:      bundle("searchset", "", search("a", "match"), search("b", "include")),
			resources: map[string]int{"Observation": 2}, patients: []string{"p1"},
		},
		{
			name:     "middle entry withheld",
			opts:     Options{Inspect: withholdW},
			in:       bundle("searchset", "", entry("a"), entry("w1"), entry("b")),
			want:     bundle("searchset", "", entry("a"), entry("b")),
			withheld: 1, resources: map[string]int{"Observation": 2},
		},
		{
			name:     "first entries withheld drop the next comma",
			opts:     Options{Inspect: withholdW},
			in:       bundle("searchset", "", entry("w1"), entry("w2"), entry("a")),
			want:     bundle("searchset", "", entry("a")),
			withheld: 2,
		},
		{
			name:     "last entry withheld",
			opts:     Options{Inspect: withholdW},
			in:       bundle("collection", "", entry("a"), entry("w1")),
			want:     bundle("collection", "", entry("a")),
			withheld: 1,
		},
		{
			name:     "all withheld omits entry",
			opts:     Options{Inspect: withholdW},
			in:       bundle("searchset", "", entry("w1"), entry("w2")),
			want:     `{"resourceType":"Bundle","type":"searchset"}`,
			withheld: 2,
		},
		{
			name:     "all withheld with disclosure",
			opts:     Options{Inspect: withholdW, Disclose: discloseCount},
			in:       bundle("searchset", "", entry("w1"), entry("w2")),
			want:     bundle("searchset", "", `{"resource":{"resourceType":"OperationOutcome","id":"withheld-2"},"search":{"mode":"outcome"}}`),
			withheld: 2,
		},
		{
			name:     "disclosure appended after kept entries",
			opts:     Options{Inspect: withholdW, Disclose: discloseCount},
			in:       bundle("searchset", "", entry("a"), entry("w1")),
			want:     bundle("searchset", "", entry("a"), `{"resource":{"resourceType":"OperationOutcome","id":"withheld-1"},"search":{"mode":"outcome"}}`),
			withheld: 1,
		},
		{
			name:     "batch-response keeps positions: a withheld entry is replaced",
			opts:     Options{Inspect: withholdW, Disclose: discloseCount, Replace: replaceForbidden},
			in:       bundle("batch-response", "", entry("a"), entry("w1"), entry("b")),
			want:     bundle("batch-response", "", entry("a"), `{"response":{"status":"403 Forbidden","outcome":{"resourceType":"OperationOutcome","id":"w1"}}}`, entry("b")),
			withheld: 1,
		},
		{
			name: "transaction-response with every entry withheld",
			opts: Options{Inspect: withholdW, Disclose: discloseCount, Replace: replaceForbidden},
			in:   bundle("transaction-response", "", entry("w1"), "\n "+entry("w2")),
			want: bundle("transaction-response", "", `{"response":{"status":"403 Forbidden","outcome":{"resourceType":"OperationOutcome","id":"w1"}}}`,
				`{"response":{"status":"403 Forbidden","outcome":{"resourceType":"OperationOutcome","id":"w2"}}}`),
			withheld: 2,
		},
		{
			name:     "Replace leaves searchsets alone",
			opts:     Options{Inspect: withholdW, Replace: replaceForbidden},
			in:       bundle("searchset", "", entry("w1"), entry("a")),
			want:     bundle("searchset", "", entry("a")),
			withheld: 1,
		},
		{
			name:     "a response Bundle's type after its entries is not known in time",
			opts:     Options{Inspect: withholdW, Replace: replaceForbidden},
			in:       `{"resourceType":"Bundle","entry":[` + entry("a") + `,` + entry("w1") + `],"type":"batch-response"}`,
			want:     `{"resourceType":"Bundle","entry":[` + entry("a") + `],"type":"batch-response"}`,
			withheld: 1,
		},
		{
			name: "no disclosure when nothing withheld",
			opts: Options{Inspect: withholdW, Disclose: discloseCount},
			in:   bundle("searchset", "", entry("a")),
			want: bundle("searchset", "", entry("a")),
		},
		{
			name:     "total held and fixed, matches only",
			opts:     Options{Inspect: withholdW, FixTotal: true},
			in:       bundle("searchset", `,"total":10`, search("a", "match"), search("w1", "match"), search("w2", "include")),
			want:     `{"resourceType":"Bundle","type":"searchset","entry":[` + search("a", "match") + `],"total":9}`,
			withheld: 2,
		},
		{
			name: "total unchanged when nothing withheld",
			opts: Options{Inspect: withholdW, FixTotal: true},
			in:   bundle("searchset", `,"total":10`, search("a", "match")),
			want: `{"resourceType":"Bundle","type":"searchset","entry":[` + search("a", "match") + `],"total":10}`,
		},
		{
			name:     "total after entries fixed in place",
			opts:     Options{Inspect: withholdW, FixTotal: true},
			in:       `{"resourceType":"Bundle","type":"searchset","entry":[` + search("w1", "match") + `,` + search("a", "match") + `],"total":2,"link":[]}`,
			want:     `{"resourceType":"Bundle","type":"searchset","entry":[` + search("a", "match") + `],"total":1,"link":[]}`,
			withheld: 1,
		},
		{
			name:     "total first member, all withheld",
			opts:     Options{Inspect: withholdW, FixTotal: true},
			in:       `{"total":1,"entry":[` + entry("w1") + `],"resourceType":"Bundle","type":"history"}`,
			want:     `{"resourceType":"Bundle","type":"history","total":0}`,
			withheld: 1,
		},
		{
			name:     "total left alone without FixTotal",
			opts:     Options{Inspect: withholdW},
			in:       bundle("searchset", `,"total":3`, entry("w1"), entry("a")),
			want:     bundle("searchset", `,"total":3`, entry("a")),
			withheld: 1,
		},
		{
			name:     "search mode before the resource",
			opts:     Options{Inspect: func(r *fhir.Resource) Verdict { return Verdict{Withhold: r.Mode == "include"} }},
			in:       bundle("searchset", "", `{"search":{"mode":"include"},"resource":`+obs("a", "")+`}`, `{"search":{"mode":"match"},"resource":`+obs("b", "")+`}`),
			want:     bundle("searchset", "", `{"search":{"mode":"match"},"resource":`+obs("b", "")+`}`),
			withheld: 1,
		},
		{
			name:     "entries without resource are kept",
			opts:     Options{Inspect: withholdW},
			in:       bundle("transaction-response", "", `{"response":{"status":"201 Created"}}`, entry("w1"), `{"response":{"status":"204"}}`),
			want:     bundle("transaction-response", "", `{"response":{"status":"201 Created"}}`, `{"response":{"status":"204"}}`),
			withheld: 1,
		},
		{
			name: "nested searchset in a batch-response",
			opts: Options{Inspect: withholdW, Disclose: discloseCount, FixTotal: true},
			in: bundle("batch-response", "",
				`{"resource":`+bundle("searchset", `,"total":2`, entry("w1"), entry("a"))+`,"response":{"status":"200"}}`,
				entry("w2"),
				`{"resource":`+obs("b", "")+`,"response":{"status":"200"}}`),
			want: bundle("batch-response", "",
				`{"resource":{"resourceType":"Bundle","type":"searchset","entry":[`+entry("a")+`,{"resource":{"resourceType":"OperationOutcome","id":"withheld-1"},"search":{"mode":"outcome"}}],"total":1},"response":{"status":"200"}}`,
				`{"resource":`+obs("b", "")+`,"response":{"status":"200"}}`,
				`{"resource":{"resourceType":"OperationOutcome","id":"withheld-1"},"search":{"mode":"outcome"}}`),
			withheld: 2, resources: map[string]int{"Observation": 2},
		},
		{
			name:     "nested Bundle as first entry with type after entry",
			opts:     Options{Inspect: withholdW},
			in:       bundle("batch-response", "", `{"resource":{"resourceType":"Bundle","entry":[`+entry("w1")+`,`+entry("a")+`],"type":"searchset"}}`),
			want:     bundle("batch-response", "", `{"resource":{"resourceType":"Bundle","entry":[`+entry("a")+`],"type":"searchset"}}`),
			withheld: 1,
		},
		{
			name:     "nested Bundle with resourceType last",
			opts:     Options{Inspect: withholdW},
			in:       bundle("batch-response", "", entry("a"), `{"resource":{"type":"searchset","entry":[`+entry("w1")+`],"resourceType":"Bundle"}}`),
			want:     bundle("batch-response", "", entry("a"), `{"resource":{"type":"searchset","resourceType":"Bundle"}}`),
			withheld: 1,
		},
		{
			name:     "top-level Bundle with resourceType last",
			opts:     Options{Inspect: withholdW},
			in:       `{"type":"searchset","entry":[` + entry("w1") + `,` + entry("a") + `],"resourceType":"Bundle"}`,
			want:     `{"type":"searchset","entry":[` + entry("a") + `],"resourceType":"Bundle"}`,
			withheld: 1,
		},
		{
			name:      "document Bundle is one resource",
			opts:      Options{Inspect: withholdW},
			in:        bundle("document", "", entry("w1"), entry("a")),
			want:      bundle("document", "", entry("w1"), entry("a")),
			resources: map[string]int{"Bundle": 1},
		},
		{
			name:     "withheld document Bundle",
			opts:     Options{Inspect: func(r *fhir.Resource) Verdict { return Verdict{Withhold: r.Type == "Bundle", Tag: "doc"} }},
			in:       bundle("document", "", entry("a")) + "\n",
			want:     ``,
			withheld: 1,
			stats: func(t *testing.T, s Stats) {
				if !s.WithheldAll {
					t.Error("WithheldAll not set")
				}
			},
		},
		{
			name:      "single resource kept",
			opts:      Options{Inspect: withholdW},
			in:        " " + obs("a", "") + "\n",
			want:      " " + obs("a", "") + "\n",
			resources: map[string]int{"Observation": 1}, patients: []string{"p1"},
		},
		{
			name:     "single resource withheld",
			opts:     Options{Inspect: withholdW},
			in:       obs("w1", "") + "\n",
			want:     "",
			withheld: 1,
			stats: func(t *testing.T, s Stats) {
				if !s.WithheldAll || s.Withheld[0] != (Withheld{Type: "Observation", ID: "w1", Tag: "policy-Observation"}) {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:     "escaped member names",
			opts:     Options{Inspect: withholdW},
			in:       `{"resource\u0054ype":"Bundle","type":"searchset","entr\u0079":[` + entry("w1") + `,` + entry("a") + `]}`,
			want:     `{"resource\u0054ype":"Bundle","type":"searchset","entr\u0079":[` + entry("a") + `]}`,
			withheld: 1,
		},
		{
			name: "empty entry array kept as received",
			opts: Options{Inspect: withholdW},
			in:   `{"resourceType":"Bundle","type":"searchset","entry":[ ]}`,
			want: `{"resourceType":"Bundle","type":"searchset","entry":[ ]}`,
		},
		{
			name:     "entry array first member, all withheld",
			opts:     Options{Inspect: withholdW},
			in:       `{"resourceType":"Bundle","entry":[` + entry("w1") + `],"type":"searchset","link":[]}`,
			want:     `{"resourceType":"Bundle","type":"searchset","link":[]}`,
			withheld: 1,
		},
		{
			name:     "pretty printed",
			opts:     Options{Inspect: withholdW},
			in:       "{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"entry\": [\n    " + entry("w1") + ",\n    " + entry("a") + "\n  ]\n}\n",
			want:     "{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"entry\": [\n    " + entry("a") + "\n  ]\n}\n",
			withheld: 1,
		},
		{
			name: "two resource members are not inspected",
			opts: Options{Inspect: withholdW},
			in:   bundle("searchset", "", `{"resource":`+obs("a", "")+`,"resource":`+obs("w1", "")+`}`),
			want: bundle("searchset", "", `{"resource":`+obs("a", "")+`,"resource":`+obs("w1", "")+`}`),
			stats: func(t *testing.T, s Stats) {
				if s.Uninspected != 1 {
					t.Errorf("Uninspected = %d", s.Uninspected)
				}
			},
		},
		{
			name:     "oversized entry passes uninspected",
			opts:     Options{Inspect: withholdW, MaxResource: 120},
			in:       bundle("searchset", "", entry("w1"), `{"resource":`+obs("w2", `,"note":[{"text":"`+strings.Repeat("x", 100)+`"}]`)+`}`),
			want:     bundle("searchset", "", `{"resource":`+obs("w2", `,"note":[{"text":"`+strings.Repeat("x", 100)+`"}]`)+`}`),
			withheld: 1,
			stats: func(t *testing.T, s Stats) {
				if s.Uninspected != 1 {
					t.Errorf("Uninspected = %d", s.Uninspected)
				}
			},
		},
		{
			name:     "malformed passes through",
			opts:     Options{Inspect: withholdW},
			in:       bundle("searchset", "", entry("w1"), entry("a")) + `x`,
			want:     bundle("searchset", "", entry("a")) + `x`,
			withheld: 1,
			stats: func(t *testing.T, s Stats) {
				if !s.Malformed {
					t.Error("Malformed not set")
				}
			},
		},
		{
			name:     "malformed inside an entry passes the rest through",
			opts:     Options{Inspect: withholdW},
			in:       `{"resourceType":"Bundle","type":"searchset","entry":[` + entry("w1") + `,{"resource":{"resourceType":"Observation",]}`,
			want:     `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Observation",]}`,
			withheld: 1,
		},
		{
			name:    "strict malformed",
			opts:    Options{Inspect: withholdW, Strict: true},
			in:      `{"resourceType":"Bundle","type":"searchset","entry":[` + entry("a") + `,}`,
			want:    `{"resourceType":"Bundle","type":"searchset","entry":[` + entry("a"),
			wantErr: ErrMalformed,
		},
		{
			name:    "strict truncated",
			opts:    Options{Strict: true},
			in:      `{"resourceType":"Patient","id":"a"`,
			want:    ``,
			wantErr: ErrMalformed,
		},
		{
			name:    "strict empty body",
			opts:    Options{Strict: true},
			in:      "  ",
			want:    "  ",
			wantErr: ErrMalformed,
		},
		{
			name:     "NDJSON",
			opts:     Options{Kind: KindNDJSON, Inspect: withholdW},
			in:       obs("a", "") + "\n" + obs("w1", "") + "\r\n\n" + obs("b", "") + "\n" + obs("w2", ""),
			want:     obs("a", "") + "\n\n" + obs("b", "") + "\n",
			withheld: 2, resources: map[string]int{"Observation": 2},
		},
		{
			name:     "NDJSON spaces around lines",
			opts:     Options{Kind: KindNDJSON, Inspect: withholdW, Strict: true},
			in:       "  " + obs("a", "") + " \t\n" + obs("w1", "") + "  \n \n" + obs("b", "") + "\t",
			want:     "  " + obs("a", "") + " \t\n \n" + obs("b", "") + "\t",
			withheld: 1,
		},
		{
			name:    "NDJSON value across lines",
			opts:    Options{Kind: KindNDJSON, Strict: true},
			in:      "{\"resourceType\":\n\"Patient\"}\n",
			want:    "",
			wantErr: ErrMalformed,
		},
		{
			name:     "NDJSON Bundle line is filtered",
			opts:     Options{Kind: KindNDJSON, Inspect: withholdW},
			in:       bundle("transaction", "", entry("w1"), entry("a")) + "\n" + obs("b", "") + "\n",
			want:     bundle("transaction", "", entry("a")) + "\n" + obs("b", "") + "\n",
			withheld: 1,
		},
		{
			name:    "NDJSON two values on a line",
			opts:    Options{Kind: KindNDJSON, Strict: true},
			in:      obs("a", "") + " " + obs("b", "") + "\n",
			want:    obs("a", "") + " ",
			wantErr: ErrMalformed,
		},
		{
			name: "Patients and counts",
			in: bundle("searchset", "",
				`{"resource":{"resourceType":"Patient","id":"p2"}}`,
				`{"resource":{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p3"},"performer":[{"reference":"Patient/p2"}]}}`),
			want: bundle("searchset", "",
				`{"resource":{"resourceType":"Patient","id":"p2"}}`,
				`{"resource":{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p3"},"performer":[{"reference":"Patient/p2"}]}}`),
			resources: map[string]int{"Patient": 1, "Observation": 1}, patients: []string{"p2", "p3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, run := range []struct {
				chunk   int
				lexOnly bool
			}{{0, false}, {1, false}, {7, false}, {0, true}} {
				chunk := run.chunk
				got, st, err := runFilterPath(t, tc.opts, []byte(tc.in), chunk, run.lexOnly)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("chunk %d: err = %v, want %v", chunk, err, tc.wantErr)
					}
				} else if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if string(got) != tc.want {
					t.Fatalf("chunk %d:\n got %s\nwant %s", chunk, got, tc.want)
				}
				if st.WithheldCount != tc.withheld || len(st.Withheld) != tc.withheld {
					t.Errorf("chunk %d: withheld %d (%v), want %d", chunk, st.WithheldCount, st.Withheld, tc.withheld)
				}
				if tc.resources != nil && fmt.Sprint(st.Resources) != fmt.Sprint(tc.resources) {
					t.Errorf("chunk %d: resources %v, want %v", chunk, st.Resources, tc.resources)
				}
				if tc.patients != nil && fmt.Sprint(st.Patients) != fmt.Sprint(tc.patients) {
					t.Errorf("chunk %d: patients %v, want %v", chunk, st.Patients, tc.patients)
				}
				if tc.wantErr == nil && st.BytesIn != int64(len(tc.in)) || st.BytesOut != int64(len(got)) {
					t.Errorf("chunk %d: bytes in/out %d/%d, want %d/%d", chunk, st.BytesIn, st.BytesOut, len(tc.in), len(got))
				}
				if tc.stats != nil {
					tc.stats(t, st)
				}
			}
		})
	}
}

func TestFilterWriteAfterClose(t *testing.T) {
	f := NewFilter(io.Discard, Options{})
	if _, err := f.Write([]byte(`{"resourceType":"Patient"}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(" ")); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

// A steady stream of kept entries costs no allocation in the Filter beyond
// the Resource's id; the Rewriter allocates nothing per write.
func TestAllocs(t *testing.T) {
	f := NewFilter(io.Discard, Options{})
	if _, err := io.WriteString(f, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Medication","id":"m0"}}`); err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat(`,{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Medication","id":"m1","code":{"text":"x"}},"search":{"mode":"match"}}`, 10))
	if n := testing.AllocsPerRun(50, func() { _, _ = f.Write(chunk) }); n > 10 {
		t.Errorf("Filter: %.1f allocations per 10 entries, want at most one per entry (the id)", n)
	}
	r := NewRewriter(io.Discard, URLReplacements("http://up/fhir", "https://gw.example/fhir"))
	body := []byte(`{"fullUrl":"http://up/fhir/Patient/1","link":"http://up/fhir?page=2","x":"http://up/f`)
	if n := testing.AllocsPerRun(100, func() { _, _ = r.Write(body) }); n != 0 {
		t.Errorf("Rewriter: %.1f allocations per write, want 0", n)
	}
}
