package console_test

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/gateway/console"
)

func TestSignInRefusesBadToken(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	code, body := c.signIn("not-a-token")
	if code != http.StatusUnauthorized || !strings.Contains(body, "Sign-in refused: the bearer token is not valid here") {
		t.Fatalf("bad token: %d\n%s", code, body)
	}
	// No session: pages send to the sign-in form.
	if code, loc, _ := c.do("GET", "/console/decisions", nil); code != http.StatusSeeOther || loc != "/console/signin" {
		t.Fatalf("without a session: %d %q", code, loc)
	}
	// The sign-in form needs its own token.
	c2 := s.client(t)
	if code, _, _ := c2.do("POST", "/console/signin", url.Values{"credential": {auditorToken}}); code != http.StatusForbidden {
		t.Fatalf("sign-in without the form token: %d", code)
	}
}

func TestPages(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	if code, body := c.signIn(auditorToken); code != http.StatusSeeOther || !strings.Contains(body, `id="results"`) {
		t.Fatalf("sign-in: %d\n%s", code, body)
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console/decisions?action=deny&class=patient", []string{`<span class="badge bad">deny</span>`, "privacy.individual-request", `href="/console/decisions/r2"`}},
		{"/console/decisions?limit=3", []string{`id="next-page"`, "cursor="}},
		{"/console/decisions/r2", []string{"received", "decided</span>", "<div class=\"detail\">deny</div>", "45 CFR 171.202(e)", "The patient asked that their records not be shared.", "Text of no-share version 1", "not sent yet"}},
		{"/console/decisions/r5", []string{"released", "fulfilled", "2 h 0 min after receipt"}},
		{"/console/decisions/r4", []string{"DocumentReference", "notes-redact"}},
		{"/console/policies", []string{"no-share", `class="review due"`, `class="review overdue"`, "Luis Ortega"}},
		{"/console/policies/no-share", []string{`<span class="del">- `, `<span class="add">&#43; `, "payer"}},
		{"/console/reports?from=2026-03-01&to=2026-04-15", []string{`<svg`, `class="mark s0"`, "infeasibility.segmentation", `id="undocumented"`, "Time to fulfilment"}},
		{"/console/queues", []string{`id="hold-h2"`, `name="reason"`, "r2"}},
		{"/console/export", []string{`id="export-form"`}},
	} {
		code, _, body := c.do("GET", tc.path, nil)
		if code != 200 {
			t.Errorf("GET %s: %d\n%s", tc.path, code, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: no %q", tc.path, w)
			}
		}
		if strings.Contains(body, auditorToken) {
			t.Errorf("GET %s: the page holds the credential", tc.path)
		}
	}
	// A filter the API refuses is explained.
	if code, _, body := c.do("GET", "/console/decisions?status=999", nil); code != 400 || !strings.Contains(body, "status: want an HTTP status code") {
		t.Errorf("bad filter: %d\n%s", code, body)
	}
}

func TestNotFound(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	c.signIn(auditorToken)
	for _, p := range []string{"/console/nope", "/console/decisions/no-such-record", "/console/policies/none"} {
		if code, _, body := c.do("GET", p, nil); code != 404 || !strings.Contains(body, "There is no page at") {
			t.Errorf("GET %s: %d\n%s", p, code, body)
		}
	}
}

func TestHeadersAndCookie(t *testing.T) {
	s := newStack(t)
	resp, err := http.Get(s.srv.URL + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Content-Security-Policy": "default-src 'self'"} {
		if got := resp.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s: %q", k, got)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %s", csp)
	}
	c := s.client(t)
	c.do("GET", "/console/signin", nil)
	req, _ := http.NewRequest("POST", s.srv.URL+"/console/signin", strings.NewReader(url.Values{"csrf": {c.csrf}, "credential": {officerToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sc string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "ehigate_console=") {
			sc = v
		}
		if strings.Contains(v, officerToken) {
			t.Errorf("a cookie holds the credential: %s", v)
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if id := strings.TrimPrefix(strings.Split(sc, ";")[0], "ehigate_console="); len(id) != 43 {
		t.Errorf("session id %q is not 256 bits", id)
	}
}

func TestSessionExpiry(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	c.signIn(auditorToken)
	s.clock.add(29 * time.Minute)
	if code, _, _ := c.do("GET", "/console/decisions", nil); code != 200 {
		t.Fatalf("within the idle time: %d", code)
	}
	s.clock.add(31 * time.Minute)
	if code, loc, _ := c.do("GET", "/console/decisions", nil); code != http.StatusSeeOther || loc != "/console/signin" {
		t.Fatalf("idle session: %d %q", code, loc)
	}
	// Absolute limit: used every 20 minutes, it still ends at 12 h.
	c.signIn(auditorToken)
	for range 12 * 3 {
		s.clock.add(20 * time.Minute)
		c.do("GET", "/console/export", nil)
	}
	if code, _, _ := c.do("GET", "/console/decisions", nil); code != http.StatusSeeOther {
		t.Fatalf("session past 12 h: %d", code)
	}
	// Sign-out drops the session.
	c.signIn(auditorToken)
	if code, _, _ := c.do("POST", "/console/signout", url.Values{"csrf": {c.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", code)
	}
	if code, _, _ := c.do("GET", "/console/decisions", nil); code != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", code)
	}
}

func TestCSRFAndRoles(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	c.signIn(auditorToken)
	c.do("GET", "/console/queues", nil)
	for _, tok := range []string{"", "forged", c.csrf + "x"} {
		code, _, body := c.do("POST", "/console/holds/h2/release", url.Values{"csrf": {tok}, "reason": {"x"}})
		if code != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Fatalf("csrf %q: %d", tok, code)
		}
	}
	// The auditor is refused by the API; the console says so.
	code, loc, _ := c.do("POST", "/console/holds/h2/release", url.Values{"csrf": {c.csrf}, "reason": {"called the patient"}})
	if code != http.StatusSeeOther || loc != "/console/queues" {
		t.Fatalf("release as auditor: %d %q", code, loc)
	}
	_, _, body := c.do("GET", "/console/queues", nil)
	if !strings.Contains(body, "Refused: only officers may release held requests (the auditor role may not POST /api/holds/h2/release)") {
		t.Fatalf("no refusal shown:\n%s", body)
	}
	if !strings.Contains(body, `id="hold-h2"`) {
		t.Fatal("the hold left the queue")
	}
	// The officer releases it.
	o := s.client(t)
	o.signIn(officerToken)
	o.do("GET", "/console/queues", nil)
	if code, _, _ := o.do("POST", "/console/holds/h2/release", url.Values{"csrf": {o.csrf}, "reason": {""}}); code != http.StatusSeeOther {
		t.Fatalf("empty reason: %d", code)
	}
	if _, _, body := o.do("GET", "/console/queues", nil); !strings.Contains(body, "Give a reason") {
		t.Fatal("empty reason not explained")
	}
	o.do("POST", "/console/holds/h2/release", url.Values{"csrf": {o.csrf}, "reason": {"results discussed by phone"}})
	if _, _, body := o.do("GET", "/console/queues", nil); !strings.Contains(body, "Hold h2 released") || strings.Contains(body, `id="hold-h2"`) {
		t.Fatalf("release not shown:\n%s", body)
	}
	o.do("POST", "/console/notices/r2/sent", url.Values{"csrf": {o.csrf}, "channel": {"mail"}})
	if _, _, body := o.do("GET", "/console/queues", nil); !strings.Contains(body, "marked sent") {
		t.Fatalf("notice not marked:\n%s", body)
	}
}

func TestExport(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	c.signIn(auditorToken)
	c.do("GET", "/console/export", nil)
	if code, _, body := c.do("POST", "/console/export", url.Values{"csrf": {c.csrf}, "from": {"soon"}}); code != 400 || !strings.Contains(body, "from: want an RFC 3339 time") {
		t.Fatalf("bad window: %d\n%s", code, body)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+"/console/export", strings.NewReader(url.Values{"csrf": {c.csrf}, "from": {"2026-03-01"}, "to": {"2026-04-15"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %v\n%s", resp.StatusCode, resp.Header, b.Bytes())
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "manifest.json"
	}
	if !found {
		t.Fatal("no manifest.json in the package")
	}
}

func TestNew(t *testing.T) {
	if _, err := console.New(console.Options{}); err != console.ErrNoAPI {
		t.Fatalf("no API: %v", err)
	}
}

// TestRevokedCredential: once the API stops accepting the session's
// credential, the page says so and the session ends: the next page asks
// to sign in again.
func TestRevokedCredential(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	if code, _ := c.signIn(auditorToken); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	s.revoked.Store(true)
	if _, _, body := c.do("GET", "/console/decisions", nil); !strings.Contains(body, "no longer accepted") {
		t.Fatalf("page after revocation:\n%s", body)
	}
	if code, loc, _ := c.do("GET", "/console/decisions", nil); code != http.StatusSeeOther || loc != "/console/signin" {
		t.Fatalf("next page: %d %q, want the sign-in form", code, loc)
	}
}

// TestSigninGuard: after ten failed sign-ins an address waits out the
// window, a right token included; then it may try again.
func TestSigninGuard(t *testing.T) {
	s := newStack(t)
	c := s.client(t)
	const maxFailed, window = 10, 5 * time.Minute // the guard's limits (guard.go)
	for i := range maxFailed {
		if code, _ := c.signIn("wrong-" + strconv.Itoa(i)); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	code, body := c.signIn(auditorToken)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("after %d failures: %d\n%s", maxFailed, code, body)
	}
	s.clock.add(window)
	if code, _ := c.signIn(auditorToken); code != http.StatusSeeOther {
		t.Fatalf("after the window: %d", code)
	}
}
