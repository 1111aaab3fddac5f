package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// TestRoles: no credentials is 401 with a challenge, an unknown token 401
// invalid_token, an auditor reads but may not release a hold or mark a
// notice sent (403), an officer may.
func TestRoles(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"no credentials", "GET", "/api/records", "", "", 401},
		{"unknown token", "GET", "/api/records", "not-a-token", "", 401},
		{"auditor reads records", "GET", "/api/records", auditorToken, "", 200},
		{"auditor reads the AuditEvent view", "GET", "/fhir/AuditEvent", auditorToken, "", 200},
		{"auditor may not release a hold", "POST", "/api/holds/h2/release", auditorToken, `{"reason":"x"}`, 403},
		{"auditor may not mark a notice sent", "POST", "/api/notices/r2/sent", auditorToken, `{"channel":"mail"}`, 403},
		{"no credentials on an officer action", "POST", "/api/holds/h2/release", "", `{"reason":"x"}`, 401},
		{"officer reads", "GET", "/api/holds", officerToken, "", 200},
		{"officer releases", "POST", "/api/holds/h2/release", officerToken, `{"reason":"discussed with the patient"}`, 200},
		{"officer marks a notice sent", "POST", "/api/notices/r2/sent", officerToken, `{"channel":"mail"}`, 200},
		{"unknown path", "GET", "/api/nothing", auditorToken, "", 404},
		{"unknown path without credentials", "GET", "/api/nothing", "", "", 401},
		{"probes need none", "GET", "/healthz", "", "", 200},
		{"readiness needs none", "GET", "/readyz", "", "", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, b := f.do(tc.method, tc.path, tc.token, tc.body)
			if code != tc.want {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.path, code, tc.want, b)
			}
			switch code {
			case 401:
				if c := hdr.Get("WWW-Authenticate"); !strings.HasPrefix(c, "Bearer ") {
					t.Errorf("WWW-Authenticate %q", c)
				}
				if tc.token != "" && !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("a refused token is not told invalid_token: %q", hdr.Get("WWW-Authenticate"))
				}
				fallthrough
			case 403, 404:
				var oo struct {
					ResourceType string `json:"resourceType"`
					Issue        []struct{ Code string }
				}
				if json.Unmarshal(b, &oo) != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 {
					t.Errorf("not an OperationOutcome: %s", b)
				}
			}
		})
	}
	// Every request, refused ones included, is in the journal.
	var got []string
	for _, a := range f.accesses() {
		got = append(got, a.Actor+" "+a.Role+" "+a.What+" "+itoa(a.Status))
	}
	for _, want := range []string{
		"anonymous  GET /api/records 401",
		"unknown-token:" + tag("not-a-token") + "  GET /api/records 401",
		"alice auditor GET /api/records 200",
		"alice auditor POST /api/holds/h2/release 403",
		"olivia officer POST /api/holds/h2/release 200",
		"olivia officer POST /api/notices/r2/sent 200",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("no access entry %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, a := range got {
		if strings.Contains(a, "healthz") || strings.Contains(a, "readyz") {
			t.Errorf("probe journaled: %s", a)
		}
	}
}

func tag(tok string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return tokenTag(r)
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestJWT: a JWT of the configured issuer is accepted with the role its
// claim maps to; without a role it is 403; a JWT of another key, expired,
// or for another audience is 401.
func TestJWT(t *testing.T) {
	is := newIssuer(t)
	other := newIssuer(t)
	f := newFixture(t, func(o *Options) {
		creds, err := NewCredentials(context.Background(), nil, &JWTOptions{Issuer: "https://idp.test", JWKSURL: is.srv.URL,
			Audience: "ehigate-admin", RoleClaim: "realm_access.roles", Roles: map[string]Role{"compliance": RoleAuditor, "privacy-officer": RoleOfficer}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { creds.Close() })
		o.Credentials = creds
	})
	roles := func(rs ...string) map[string]any {
		l := make([]any, len(rs))
		for i, r := range rs {
			l[i] = r
		}
		return map[string]any{"roles": l}
	}
	tests := []struct {
		name   string
		token  string
		method string
		path   string
		want   int
		actor  string
	}{
		{"auditor reads", is.token(t, jwt.MapClaims{"sub": "u-1", "realm_access": roles("compliance")}), "GET", "/api/chains", 200, "u-1"},
		{"auditor may not release", is.token(t, jwt.MapClaims{"sub": "u-1", "realm_access": roles("compliance")}), "POST", "/api/holds/h2/release", 403, "u-1"},
		{"strongest role wins", is.token(t, jwt.MapClaims{"sub": "u-2", "realm_access": roles("compliance", "privacy-officer")}), "POST", "/api/holds/h2/release", 200, "u-2"},
		{"no role", is.token(t, jwt.MapClaims{"sub": "u-3", "realm_access": roles("nurse")}), "GET", "/api/chains", 403, "u-3"},
		{"another key", other.token(t, jwt.MapClaims{"sub": "u-4", "realm_access": roles("compliance")}), "GET", "/api/chains", 401, ""},
		{"expired", is.token(t, jwt.MapClaims{"sub": "u-5", "realm_access": roles("compliance"), "exp": time.Now().Add(-time.Hour).Unix()}), "GET", "/api/chains", 401, ""},
		{"another audience", is.token(t, jwt.MapClaims{"sub": "u-6", "aud": "fhir", "realm_access": roles("compliance")}), "GET", "/api/chains", 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "POST" {
				body = `{"reason":"clinician called the patient"}`
			}
			if code, _, b := f.do(tc.method, tc.path, tc.token, body); code != tc.want {
				t.Fatalf("%d, want %d: %s", code, tc.want, b)
			}
		})
	}
	found := false
	for _, a := range f.accesses() {
		found = found || (a.Actor == "u-2" && a.Role == "officer" && strings.HasPrefix(a.What, "POST /api/holds/h2/release"))
	}
	if !found {
		t.Error("the JWT officer's release is not journaled under its subject")
	}
}

// TestRecordsFilters checks every filter of GET /api/records.
func TestRecordsFilters(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		query string
		want  string
	}{
		{"", "r8 r7 r6 r5 r4 r3 r2 r1"},
		{"order=asc", "r1 r2 r3 r4 r5 r6 r7 r8"},
		{"from=2026-03-09&to=2026-03-11", "r5 r4"},
		{"from=2026-03-31T12:00:00Z", "r8 r7"},
		{"patient=p2", "r4 r3"},
		{"requester=dr-1", "r4 r3"},
		{"client=third-app", "r8 r7"},
		{"issuer=https://idp", "r8 r7 r6 r5 r4 r3 r2 r1"},
		{"class=patient", "r6 r5 r2 r1"},
		{"action=deny,redact", "r4 r3 r2"},
		{"exception=infeasibility.segmentation", "r4"},
		{"policy=no-share", "r3 r2"},
		{"interaction=read", "r6 r5 r4"},
		{"type=Observation", "r8 r7 r3 r2 r1"},
		{"status=202", "r6 r5"},
		{"flag=undocumented", "r8 r7"},
		{"flag=notice-required&patient=p1", "r3 r2"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			var page recordsPage
			f.get("/api/records?"+tc.query, &page)
			if got := ids(page.Records); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if page.Count != len(page.Records) || page.Next != "" {
				t.Errorf("count %d next %q", page.Count, page.Next)
			}
		})
	}
	for _, bad := range []string{"from=yesterday", "action=maybe", "class=king", "status=9999", "limit=0", "limit=5000",
		"order=up", "cursor=!!", "nope=1", "patient=a&patient=b"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if code, _, b := f.do("GET", "/api/records?"+bad, auditorToken, ""); code != 400 {
				t.Errorf("%d, want 400: %s", code, b)
			}
		})
	}
	// Cursor pagination: every record once, through absolute next links.
	var all []decision.Record
	path := "/api/records?limit=3&order=asc"
	for range 10 {
		var page recordsPage
		f.get(path, &page)
		all = append(all, page.Records...)
		if page.Next == "" {
			break
		}
		if !strings.HasPrefix(page.NextURL, f.srv.URL+"/api/records?") {
			t.Fatalf("next_url %q is not absolute", page.NextURL)
		}
		path = strings.TrimPrefix(page.NextURL, f.srv.URL)
	}
	if got := ids(all); got != "r1 r2 r3 r4 r5 r6 r7 r8" {
		t.Errorf("paged: %s", got)
	}
	// The record itself.
	var rec decision.Record
	f.get("/api/records/r3", &rec)
	if rec.ID != "r3" || len(rec.Entries) != 1 {
		t.Errorf("record %+v", rec)
	}
	if code, _, _ := f.do("GET", "/api/records/nope", auditorToken, ""); code != 404 {
		t.Errorf("unknown record: %d", code)
	}
}

func ids(rs []decision.Record) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return strings.Join(out, " ")
}

// TestAccessJournaledBeforeData: a read is journaled (actor, role, what,
// status, count) before its data is returned, and when the journal cannot
// take it nothing is returned.
func TestAccessJournaledBeforeData(t *testing.T) {
	f := newFixture(t)
	var page recordsPage
	f.get("/api/records?patient=p1&action=deny", &page)
	as := f.accesses()
	last := as[len(as)-1]
	if last.Actor != "alice" || last.Role != "auditor" || last.What != "GET /api/records?action=deny&patient=p1" ||
		last.Status != 200 || last.Count != len(page.Records) || last.Count != 2 || last.ID == "" {
		t.Fatalf("access entry %+v", last)
	}
	if err := f.w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, _, b := f.do("GET", "/api/records/r1", auditorToken, "")
	if code != 503 || bytes.Contains(b, []byte(`"r1"`)) {
		t.Fatalf("with the journal closed: %d %s", code, b)
	}
}

func TestTrace(t *testing.T) {
	f := newFixture(t)
	var tr Trace
	f.get("/api/records/r2/trace", &tr)
	if tr.Record.ID != "r2" || len(tr.Entries) != 1 || tr.Entries[0].Kind != decision.KindDecision || tr.Entries[0].Chain != "rec" ||
		tr.Entries[0].Seq != 2 || len(tr.Entries[0].Hash) != 64 || !json.Valid(tr.Entries[0].Payload) {
		t.Fatalf("entries %+v", tr.Entries)
	}
	ps := tr.PolicySet
	if ps == nil || ps.Hash != f.set.Hash() || ps.Entry == nil || ps.Entry.Chain != "gw" || len(ps.Texts) != 2 {
		t.Fatalf("policy set %+v", ps)
	}
	for _, tx := range ps.Texts {
		var p struct{ ID, Action string }
		if err := json.Unmarshal(tx.Text, &p); err != nil || p.ID != tx.ID {
			t.Errorf("text of %s: %s", tx.ID, tx.Text)
		}
		if tx.Applied != (tx.ID == "no-share") {
			t.Errorf("%s applied = %v", tx.ID, tx.Applied)
		}
	}
	if e := tr.Exception; e == nil || e.Code != "privacy.individual-request" || e.CFR == "" || e.Title == "" || len(e.Documentation) != 4 || e.CatalogVersion == "" {
		t.Fatalf("exception %+v", e)
	}
	// A released hold: the trace shows the transition.
	if code, _, b := f.do("POST", "/api/holds/h2/release", officerToken, `{"reason":"clinician called"}`); code != 200 {
		t.Fatalf("release: %d %s", code, b)
	}
	f.get("/api/records/r6/trace", &tr)
	if len(tr.Entries) != 2 || tr.Entries[1].Kind != decision.KindTransition || tr.Record.Hold == nil ||
		tr.Record.Hold.State != decision.HoldReleased || tr.Record.Hold.ReleasedBy != "olivia" {
		t.Fatalf("released hold: %+v %+v", tr.Entries, tr.Record.Hold)
	}
}

func TestHoldsAPI(t *testing.T) {
	f := newFixture(t)
	var list HoldList
	f.get("/api/holds", &list)
	if len(list.Holds) != 1 || list.Holds[0].ID != "h2" || list.Holds[0].Request.Header != nil {
		t.Fatalf("holds %+v", list.Holds)
	}
	code, _, b := f.do("GET", "/api/holds", officerToken, "")
	if bytes.Contains(b, []byte("requester-secret")) || code != 200 {
		t.Fatalf("the requester's credentials leak: %s", b)
	}
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"reason required", "/api/holds/h2/release", `{"by":"Dr. Chen"}`, 400},
		{"unknown field", "/api/holds/h2/release", `{"reason":"x","why":"y"}`, 400},
		{"unknown hold", "/api/holds/nope/release", `{"reason":"x"}`, 404},
		{"released", "/api/holds/h2/release", `{"by":"Dr. Amara Chen","reason":"notes discussed with the patient"}`, 200},
		{"twice", "/api/holds/h2/release", `{"reason":"again"}`, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, b := f.do("POST", tc.path, officerToken, tc.body); code != tc.want {
				t.Fatalf("%d, want %d: %s", code, tc.want, b)
			}
		})
	}
	h, err := f.st.Hold(context.Background(), "h2")
	if err != nil || h.State != store.HoldReleased || h.ReleasedBy != "Dr. Amara Chen" || h.ReleaseReason != "notes discussed with the patient" {
		t.Fatalf("hold %+v %v", h, err)
	}
	f.get("/api/holds?state=released", &list)
	if len(list.Holds) != 1 {
		t.Fatalf("released holds %+v", list.Holds)
	}
}

func TestNoticesAPI(t *testing.T) {
	f := newFixture(t)
	// Deadlines are assessed at the fixture's clock: r2's passed.
	var rep struct {
		Overdue int64
		Items   []struct{ Record, Status string }
	}
	f.get("/api/notices", &rep)
	if rep.Overdue != 1 || len(rep.Items) != 1 || rep.Items[0].Record != "r2" || rep.Items[0].Status != "overdue" {
		t.Fatalf("notices %+v", rep)
	}
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"bad channel", "/api/notices/r2/sent", `{"channel":"pigeon"}`, 400},
		{"no notice", "/api/notices/r1/sent", `{"channel":"mail"}`, 409},
		{"unknown record", "/api/notices/nope/sent", `{"channel":"mail"}`, 404},
		{"bad time", "/api/notices/r2/sent", `{"channel":"mail","at":"soon"}`, 400},
		{"sent", "/api/notices/r2/sent", `{"channel":"portal","at":"2026-04-01T10:00:00Z"}`, 200},
		{"twice", "/api/notices/r2/sent", `{"channel":"portal"}`, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, b := f.do("POST", tc.path, officerToken, tc.body); code != tc.want {
				t.Fatalf("%d, want %d: %s", code, tc.want, b)
			}
		})
	}
	rec, err := f.st.Record(context.Background(), "r2")
	if err != nil || !rec.HasFlag(decision.FlagNoticeSent) || rec.Notice.SentBy != "olivia" || rec.Notice.Channel != "portal" {
		t.Fatalf("record %+v %v", rec.Notice, err)
	}
	f.get("/api/notices", &rep)
	if rep.Overdue != 0 || len(rep.Items) != 0 {
		t.Fatalf("after sending: %+v", rep)
	}
}

func TestPoliciesAPI(t *testing.T) {
	f := newFixture(t)
	var list PolicyList
	f.get("/api/policies", &list)
	if list.PolicySet != f.set.Hash() || len(list.Policies) != 2 || list.Policies[0].ID != "no-share" || list.Policies[0].Action != "deny" ||
		len(list.Policies[0].Versions) != 1 || !list.Policies[0].Versions[0].Current || len(list.Sets) != 1 {
		t.Fatalf("policies %+v", list)
	}
	var d PolicyDetail
	f.get("/api/policies/notes-hold", &d)
	if d.ID != "notes-hold" || len(d.Current) == 0 || len(d.Versions) != 1 || !sameJSON(d.Versions[0].Text, d.Current) {
		t.Fatalf("detail %+v", d)
	}
	if code, _, _ := f.do("GET", "/api/policies/nope", auditorToken, ""); code != 404 {
		t.Fatalf("unknown policy: %d", code)
	}
}

func TestChainsAndVerify(t *testing.T) {
	f := newFixture(t)
	var cl ChainList
	f.get("/api/chains", &cl)
	var names []string
	for _, c := range cl.Chains {
		names = append(names, c.Name)
	}
	if strings.Join(names, " ") != "gw rec" {
		t.Fatalf("chains %v", names)
	}
	code, _, b := f.do("POST", "/api/verify", auditorToken, `{"chains":["gw"],"chains_only":true}`)
	var v struct {
		OK     bool `json:"ok"`
		Chains []struct{ Chain string }
	}
	if code != 200 || json.Unmarshal(b, &v) != nil || !v.OK {
		t.Fatalf("verify: %d %s", code, b)
	}
	if code, _, _ := f.do("POST", "/api/verify", auditorToken, `{"from":"later"}`); code != 400 {
		t.Fatalf("bad from: %d", code)
	}
}

func TestReportsAPI(t *testing.T) {
	f := newFixture(t)
	var rep struct {
		Kind         string
		Restrictions int64
		Bucket       string
	}
	f.get("/api/reports/restrictions?bucket=week", &rep)
	if rep.Kind != "restrictions" || rep.Restrictions != 5 || rep.Bucket != "week" {
		t.Fatalf("restrictions %+v", rep)
	}
	var und []struct{ Count int }
	f.get("/api/reports/undocumented", &und)
	if len(und) != 1 || und[0].Count != 2 {
		t.Fatalf("undocumented %+v", und)
	}
	code, hdr, b := f.do("GET", "/api/reports/all?format=html", auditorToken, "")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !bytes.Contains(b, []byte(`id="consistency"`)) ||
		!strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("html: %d %s", code, hdr)
	}
	for _, tc := range []struct {
		path string
		want int
	}{{"/api/reports/nope", 404}, {"/api/reports/restrictions?format=pdf", 400}, {"/api/reports/restrictions?bucket=year", 400},
		{"/api/reports/repeated?min=2&patient=p1", 200}, {"/api/reports/notices?within=10d", 200}} {
		if code, _, b := f.do("GET", tc.path, auditorToken, ""); code != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.path, code, tc.want, b)
		}
	}
}

func sameJSON(a, b []byte) bool {
	var x, y bytes.Buffer
	return json.Compact(&x, a) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}
