package console_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/decision/store/storetest"
	"github.com/ehigate/ehigate/gateway/admin"
	"github.com/ehigate/ehigate/gateway/console"
	"github.com/ehigate/ehigate/gateway/hold"
)

// The test credentials.
const (
	auditorToken = "auditor-token-0123456789"
	officerToken = "officer-token-0123456789"
)

// clock is an adjustable clock for sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stack is the admin API over a SQLite store holding the known records
// of storetest.ReportRecords (eight decisions over March 2026: denials
// with a notice owed, a redaction, held requests — hold h2 of r6 still
// parked — and undocumented upstream refusals), two versions of the
// policy set of testdata, and the console in front of it, served by an
// httptest server the way the admin listener serves them.
type stack struct {
	st     store.Store
	api    *admin.Handler
	srv    *httptest.Server
	clock  *clock
	apiNow time.Time
	// revoked: the API refuses the console's credentials from now on.
	revoked atomic.Bool
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	v1, err := policy.Load([]string{"testdata/policies.yaml"}, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := policy.Load([]string{"testdata/policies-v2.yaml"}, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	recs := storetest.ReportRecords()
	recs[1].PolicySet = v1.Hash()
	storetest.AppendRecords(t, st, "rec", recs...)
	if err := st.PutHold(ctx, &store.Hold{ID: "h2", RecordID: "r6", Policy: "notes-hold", State: store.HoldHeld,
		CreatedAt: recs[5].ReceivedAt, Request: store.HeldRequest{Method: "GET", Path: "DocumentReference/d1",
			Header: http.Header{"Authorization": {"Bearer requester-secret"}}}}); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	now := storetest.ReportStart.Add(45 * day)
	apiClock := func() time.Time { return now }
	w, err := journal.Open(ctx, st, journal.Options{Chain: "gw", Signer: journal.NewSigner(storetest.TestKey()), Clock: apiClock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	for i, set := range []*policy.Set{v1, v2} {
		at := now.Add(-time.Duration(40-30*i) * day)
		if _, err := w.Append(ctx, decision.KindPolicySet, policy.RecordID(set.Hash()), set.Entry("ps", at), nil); err != nil {
			t.Fatal(err)
		}
		ptr := set.Entry("ps", at)
		ptr.Texts = nil
		if _, err := w.Append(ctx, decision.KindPolicySet, policy.LatestRecordID, ptr, nil); err != nil {
			t.Fatal(err)
		}
	}
	creds, err := admin.NewCredentials(ctx, []admin.Token{
		{Name: "alice", Role: admin.RoleAuditor, SHA256: sha256.Sum256([]byte(auditorToken))},
		{Name: "olivia", Role: admin.RoleOfficer, SHA256: sha256.Sum256([]byte(officerToken))},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	api, err := admin.New(admin.Options{
		Store: st, Journal: w, Credentials: creds, Catalog: cat, Clock: apiClock,
		Holds:    hold.New(hold.Options{Store: st, Journal: w, Clock: apiClock}),
		Policies: func() *policy.Set { return v2 },
		Keys:     journal.NewKeyring(storetest.TestKey().Public().(ed25519.PublicKey)),
		Transition: func(r *decision.Record, tr decision.Transition) error {
			return errors.Join(notices.Apply(r, tr), hold.Apply(r, tr))
		},
		Export: &admin.ExportOptions{Key: storetest.TestKey(), TempDir: t.TempDir(), CreatedBy: "ehigate test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: now}
	var con *console.Handler
	s := &stack{st: st, api: api, clock: c, apiNow: now}
	// revoked makes the API refuse every credential the console passes
	// on, as after a token is revoked or a JWT expires.
	con, err = console.New(console.Options{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.revoked.Load() {
			r.Header.Set("Authorization", "Bearer revoked")
		}
		api.ServeHTTP(w, r)
	}), Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, con)
	mux.Handle("/", api)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// client is a browser-like HTTP client: cookies kept, redirects not
// followed.
type client struct {
	t    *testing.T
	s    *stack
	http *http.Client
	csrf string
}

func (s *stack) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, s: s, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends a request and returns the status, the Location and the body;
// it remembers the last CSRF token a page carried.
func (c *client) do(method, path string, form url.Values) (int, string, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.s.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// signIn signs in with token and reports the status and page.
func (c *client) signIn(token string) (int, string) {
	c.t.Helper()
	if code, _, _ := c.do("GET", "/console/signin", nil); code != 200 {
		c.t.Fatalf("sign-in form: %d", code)
	}
	code, loc, body := c.do("POST", "/console/signin", url.Values{"csrf": {c.csrf}, "credential": {token}})
	if code == http.StatusSeeOther {
		_, _, body = c.do("GET", loc, nil)
	}
	return code, body
}
