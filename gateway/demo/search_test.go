package demo

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// genResource is a generated resource decoded for test oracles.
type genResource map[string]any

func (r genResource) key() string { return r["resourceType"].(string) + "/" + r["id"].(string) }

// refTo reports whether element name of r references want.
func (r genResource) refTo(name, want string) bool {
	var found bool
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if t["reference"] == want {
				found = true
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(r[name])
	return found
}

// hasCoding reports whether element name of r (a CodeableConcept or a list
// of them) has a coding with code (and system when not "").
func (r genResource) hasCoding(name, system, code string) bool {
	b, _ := json.Marshal(r[name])
	return strings.Contains(string(b), `"code":"`+code+`"`) &&
		(system == "" || strings.Contains(string(b), `"system":"`+system+`"`))
}

func (r genResource) hasLabel(code string) bool {
	b, _ := json.Marshal(r["meta"])
	return strings.Contains(string(b), `"code":"`+code+`"`)
}

func generated(t testing.TB, n int) []genResource {
	t.Helper()
	var out []genResource
	for _, raw := range Generate(n, 1, testNow) {
		var r genResource
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func expect(all []genResource, typ string, pred func(genResource) bool) []string {
	var out []string
	for _, r := range all {
		if (typ == "" || r["resourceType"] == typ) && (pred == nil || pred(r)) {
			out = append(out, r.key())
		}
	}
	return out
}

func TestSearch(t *testing.T) {
	_, hs := newTestServer(t, 4, Options{})
	base := hs.URL + "/fhir"
	all := generated(t, 4)
	subj := func(p string) func(genResource) bool {
		return func(r genResource) bool { return r.refTo("subject", "Patient/"+p) || r.refTo("patient", "Patient/"+p) }
	}
	and := func(a, b func(genResource) bool) func(genResource) bool {
		return func(r genResource) bool { return a(r) && b(r) }
	}
	cat := func(code string) func(genResource) bool {
		return func(r genResource) bool { return r.hasCoding("category", "", code) }
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name     string
		method   string
		url      string
		body     string
		header   []string
		status   int
		want     []string // expected match ids (order-insensitive)
		includes []string
	}{
		{name: "patient param", url: "/Observation?patient=demo-1", want: expect(all, "Observation", subj("demo-1"))},
		{name: "subject typed", url: "/Observation?subject=Patient/demo-2", want: expect(all, "Observation", subj("demo-2"))},
		{name: "subject absolute", url: "/Observation?subject=" + url.QueryEscape(base+"/Patient/demo-2"), want: expect(all, "Observation", subj("demo-2"))},
		{name: "subject modifier", url: "/Observation?subject:Patient=demo-3", want: expect(all, "Observation", subj("demo-3"))},
		{name: "wrong modifier type", url: "/Observation?subject:Group=demo-3", want: nil},
		{name: "comma or", url: "/Condition?patient=demo-1,demo-2", want: append(expect(all, "Condition", subj("demo-1")), expect(all, "Condition", subj("demo-2"))...)},
		{name: "patient alias on subject", url: "/Condition?subject=Patient/demo-1", want: expect(all, "Condition", subj("demo-1"))},
		{name: "coverage beneficiary alias", url: "/Coverage?patient=demo-4", want: []string{"Coverage/demo-4-cov-1"}},
		{name: "category", url: "/Observation?patient=demo-1&category=laboratory", want: expect(all, "Observation", and(subj("demo-1"), cat("laboratory")))},
		{name: "category system|code", url: "/Observation?category=" + url.QueryEscape(sysObsCat+"|vital-signs"), want: expect(all, "Observation", cat("vital-signs"))},
		{name: "category wrong system", url: "/Observation?category=" + url.QueryEscape("urn:other|vital-signs"), want: nil},
		{name: "condition category", url: "/Condition?category=encounter-diagnosis", want: expect(all, "Condition", cat("encounter-diagnosis"))},
		{name: "code", url: "/Observation?code=" + url.QueryEscape(sysLOINC+"|8867-4"), want: expect(all, "Observation", func(r genResource) bool { return r.hasCoding("code", sysLOINC, "8867-4") })},
		{name: "medication code", url: "/MedicationRequest?code=617312,314076,860975", want: expect(all, "MedicationRequest", nil)},
		{name: "docref category", url: "/DocumentReference?patient=demo-1&category=clinical-note", want: expect(all, "DocumentReference", subj("demo-1"))},
		{name: "_id", url: "/Patient?_id=demo-1,demo-3", want: []string{"Patient/demo-1", "Patient/demo-3"}},
		{name: "_id invalid", url: "/Patient?_id=bad!", want: nil},
		{name: "_security", url: "/Condition?_security=" + url.QueryEscape(sysActCode+"|ETH"), want: expect(all, "Condition", func(r genResource) bool { return r.hasLabel("ETH") })},
		{name: "_security any system", url: "/DocumentReference?_security=PSY", want: expect(all, "DocumentReference", func(r genResource) bool { return r.hasLabel("PSY") })},
		{name: "_tag none", url: "/Patient?_tag=anything", want: nil},
		{name: "_lastUpdated ge future", url: "/Patient?_lastUpdated=ge2030-01-01", want: nil},
		{name: "_lastUpdated le future", url: "/Patient?_lastUpdated=le2030-01-01", want: expect(all, "Patient", nil)},
		{name: "_lastUpdated eq day", url: "/Patient?_lastUpdated=2026-03-01", want: expect(all, "Patient", nil)},
		{name: "_lastUpdated bad", url: "/Patient?_lastUpdated=yesterday", status: 400},
		{name: "include patient", url: "/Observation?patient=demo-2&_include=Observation:patient", want: expect(all, "Observation", subj("demo-2")), includes: []string{"Patient/demo-2"}},
		{name: "include subject typed", url: "/Condition?_id=demo-1-cond-1&_include=Condition:subject:Patient", want: []string{"Condition/demo-1-cond-1"}, includes: []string{"Patient/demo-1"}},
		{name: "include wrong source", url: "/Condition?_include=Observation:subject", status: 400},
		{name: "include unsupported lenient", url: "/MedicationRequest?_id=demo-1-med-1&_include=MedicationRequest:medication", want: []string{"MedicationRequest/demo-1-med-1"}},
		{name: "include unsupported strict", url: "/MedicationRequest?_include=MedicationRequest:medication", header: []string{"Prefer", "handling=strict"}, status: 400},
		{name: "unknown param lenient", url: "/Patient?_id=demo-1&frobnicate=1", want: []string{"Patient/demo-1"}},
		{name: "unknown param strict", url: "/Patient?_id=demo-1&frobnicate=1", header: []string{"Prefer", "handling=strict"}, status: 400},
		{name: "unsupported modifier", url: "/Observation?code:text=heart", status: 400},
		{name: "bad _count", url: "/Patient?_count=-1", status: 400},
		{name: "POST _search", method: "POST", url: "/Observation/_search", body: "patient=demo-4&category=vital-signs", header: []string{"Content-Type", form}, want: expect(all, "Observation", and(subj("demo-4"), cat("vital-signs")))},
		{name: "POST _search url and body", method: "POST", url: "/Observation/_search?category=laboratory", body: "patient=demo-4", header: []string{"Content-Type", form}, want: expect(all, "Observation", and(subj("demo-4"), cat("laboratory")))},
		{name: "system _type", url: "?_type=Practitioner,Organization", want: append(expect(all, "Organization", nil), expect(all, "Practitioner", nil)...)},
		{name: "system POST _search", method: "POST", url: "/_search", body: "_type=Patient&_id=demo-2", header: []string{"Content-Type", form}, want: []string{"Patient/demo-2"}},
		{name: "system unknown type", url: "?_type=Nonsense", status: 400},
		{name: "compartment type", url: "/Patient/demo-3/Observation?category=vital-signs", want: expect(all, "Observation", and(subj("demo-3"), cat("vital-signs")))},
		{name: "compartment all", url: "/Patient/demo-3/*", want: append(expect(all, "", func(r genResource) bool {
			return subj("demo-3")(r) || r.refTo("beneficiary", "Patient/demo-3")
		}), "Patient/demo-3")},
		{name: "compartment other patient", url: "/Patient/demo-3/Condition?_id=demo-1-cond-1", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			u := base + tc.url
			if !strings.Contains(u, "_count") {
				u += sep(u) + "_count=1000"
			}
			r := do(t, method, u, body, tc.header...)
			want := tc.status
			if want == 0 {
				want = 200
			}
			if r.status != want {
				t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
			}
			if want != 200 {
				return
			}
			b := r.json(t)
			if b["type"] != "searchset" {
				t.Fatalf("Bundle type %v", b["type"])
			}
			var match, inc []string
			for _, e := range entries(t, b) {
				mode := e["search"].(map[string]any)["mode"]
				full, _ := e["fullUrl"].(string)
				k := ids([]map[string]any{e})[0]
				if full != base+"/"+k {
					t.Errorf("fullUrl %q, want %q", full, base+"/"+k)
				}
				if mode == "include" {
					inc = append(inc, k)
				} else {
					match = append(match, k)
				}
			}
			sortEq(t, "matches", match, tc.want)
			sortEq(t, "includes", inc, tc.includes)
			if int(b["total"].(float64)) != len(tc.want) {
				t.Errorf("total %v, want %d", b["total"], len(tc.want))
			}
		})
	}
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func sortEq(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestSearchSummaryAndTotal(t *testing.T) {
	_, hs := newTestServer(t, 2, Options{})
	base := hs.URL + "/fhir"
	all := generated(t, 2)
	nObs := len(expect(all, "Observation", nil))
	tests := []struct {
		name      string
		url       string
		total     float64 // -1: absent
		entries   int
		nextLinks bool
	}{
		{name: "summary count", url: "/Observation?_summary=count", total: float64(nObs)},
		{name: "count zero", url: "/Observation?_count=0", total: float64(nObs)},
		{name: "total none", url: "/Observation?_total=none&_count=3", total: -1, entries: 3, nextLinks: true},
		{name: "default page size", url: "/Observation", total: float64(nObs), entries: 20, nextLinks: true},
		{name: "count capped", url: "/Observation?_count=100000", total: float64(nObs), entries: nObs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodGet, base+tc.url, nil)
			b := r.json(t)
			total, ok := b["total"].(float64)
			if tc.total < 0 && ok || tc.total >= 0 && total != tc.total {
				t.Errorf("total %v (present %v), want %v", total, ok, tc.total)
			}
			if n := len(entries(t, b)); n != tc.entries {
				t.Errorf("%d entries, want %d", n, tc.entries)
			}
			if (linkURL(b, "next") != "") != tc.nextLinks {
				t.Errorf("next link %q", linkURL(b, "next"))
			}
			if !strings.HasPrefix(linkURL(b, "self"), base+"/Observation") {
				t.Errorf("self link %q", linkURL(b, "self"))
			}
		})
	}
}

func TestPaging(t *testing.T) {
	_, hs := newTestServer(t, 6, Options{PageSize: 7})
	base := hs.URL + "/fhir"
	all := generated(t, 6)
	tests := []struct {
		name   string
		url    string
		method string
		body   string
		want   []string
	}{
		{name: "type search", url: "/Observation?category=vital-signs", want: expect(all, "Observation", func(r genResource) bool { return r.hasCoding("category", "", "vital-signs") })},
		{name: "explicit count", url: "/Condition?_count=3", want: expect(all, "Condition", nil)},
		{name: "post search", url: "/Encounter/_search", method: "POST", body: "_count=2", want: expect(all, "Encounter", nil)},
		{name: "compartment", url: "/Patient/demo-5/*?_count=4", want: append(expect(all, "", func(r genResource) bool {
			return r.refTo("subject", "Patient/demo-5") || r.refTo("patient", "Patient/demo-5") || r.refTo("beneficiary", "Patient/demo-5")
		}), "Patient/demo-5")},
		{name: "everything", url: "/Patient/demo-2/$everything?_count=9", want: everythingOracle(all, "demo-2")},
		{name: "system", url: "?_type=Patient,Practitioner&_count=2", want: append(expect(all, "Patient", nil), expect(all, "Practitioner", nil)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := base + tc.url
			if tc.method == "POST" {
				r := do(t, http.MethodPost, first, []byte(tc.body), "Content-Type", "application/x-www-form-urlencoded")
				first = linkURL(r.json(t), "first")
			}
			es, total, pages := walkPages(t, hs, first)
			got := ids(es)
			sortEq(t, "paged entries", got, tc.want)
			if int(total) != len(tc.want) && !strings.Contains(tc.url, "everything") {
				t.Errorf("total %v, want %d", total, len(tc.want))
			}
			if pages < 2 {
				t.Errorf("only %d page(s): paging not exercised", pages)
			}
		})
	}
	// previous and last links, and a page fetched twice is the same page.
	r := do(t, http.MethodGet, base+"/Observation?_count=5", nil)
	next := linkURL(r.json(t), "next")
	p2 := do(t, http.MethodGet, next, nil).json(t)
	if prev := linkURL(p2, "previous"); !strings.Contains(prev, "_getpagesoffset=0") {
		t.Errorf("previous link %q", prev)
	}
	if self := linkURL(p2, "self"); self != next {
		t.Errorf("self %q, want the page URL %q", self, next)
	}
	if linkURL(p2, "last") == "" {
		t.Error("no last link")
	}
	if again := do(t, http.MethodGet, next, nil).json(t); !slices.Equal(ids(entries(t, again)), ids(entries(t, p2))) {
		t.Error("same page URL gave different entries")
	}
	if r := do(t, http.MethodGet, base+"?_getpages=***", nil); r.status != http.StatusGone {
		t.Errorf("bad token: %d", r.status)
	}
}
