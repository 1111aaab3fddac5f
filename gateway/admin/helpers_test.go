package admin

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/decision/store/storetest"
	"github.com/ehigate/ehigate/fhir/audit"
	"github.com/ehigate/ehigate/gateway/hold"
)

// The test credentials.
const (
	auditorToken = "auditor-token-0123456789"
	officerToken = "officer-token-0123456789"
)

var oneDay = 24 * time.Hour

// fixture is an admin handler over the known data set of
// storetest.ReportRecords (r2 decided under the policy set of
// testdata/policies.yaml), with hold h2 of r6 parked, served by an
// httptest server.
type fixture struct {
	t    *testing.T
	st   store.Store
	w    *journal.Writer
	h    *Handler
	srv  *httptest.Server
	set  *policy.Set
	now  time.Time
	opts Options
}

func newFixture(t *testing.T, mutate ...func(*Options)) *fixture {
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
	set, err := policy.Load([]string{"testdata/policies.yaml"}, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	recs := storetest.ReportRecords()
	recs[1].PolicySet = set.Hash()
	storetest.AppendRecords(t, st, "rec", recs...)
	if err := st.PutHold(ctx, &store.Hold{ID: "h2", RecordID: "r6", Policy: "notes-hold", State: store.HoldHeld,
		CreatedAt: recs[5].ReceivedAt, Request: store.HeldRequest{Method: "GET", Path: "DocumentReference/d1",
			Header: http.Header{"Authorization": {"Bearer requester-secret"}}}}); err != nil {
		t.Fatal(err)
	}
	now := storetest.ReportStart.Add(45 * oneDay)
	clock := func() time.Time { return now }
	w, err := journal.Open(ctx, st, journal.Options{Chain: "gw", Signer: journal.NewSigner(storetest.TestKey()), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, decision.KindPolicySet, policy.RecordID(set.Hash()), set.Entry("ps1", now.Add(-40*oneDay)), nil); err != nil {
		t.Fatal(err)
	}
	ptr := set.Entry("ps2", now.Add(-40*oneDay))
	ptr.Texts = nil
	if _, err := w.Append(ctx, decision.KindPolicySet, policy.LatestRecordID, ptr, nil); err != nil {
		t.Fatal(err)
	}
	creds, err := NewCredentials(ctx, []Token{
		{Name: "alice", Role: RoleAuditor, SHA256: sha256.Sum256([]byte(auditorToken))},
		{Name: "olivia", Role: RoleOfficer, SHA256: sha256.Sum256([]byte(officerToken))},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Store: st, Journal: w, Credentials: creds, Catalog: cat, Clock: clock,
		Holds:    hold.New(hold.Options{Store: st, Journal: w, Clock: clock}),
		Policies: func() *policy.Set { return set },
		Events:   audit.NewBuilder(audit.Options{Server: "https://gw.example/fhir"}),
		Keys:     journal.NewKeyring(storetest.TestKey().Public().(ed25519.PublicKey)),
		Transition: func(r *decision.Record, tr decision.Transition) error {
			return errorsJoin(notices.Apply(r, tr), hold.Apply(r, tr))
		},
		Export: &ExportOptions{Key: storetest.TestKey(), TempDir: t.TempDir(), CreatedBy: "ehigate test"},
	}
	for _, m := range mutate {
		m(&opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, w: w, h: h, set: set, now: now, opts: opts}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { w.Close(context.Background()) })
	return f
}

// do sends a request with token ("" for none) and returns the status,
// headers and body.
func (f *fixture) do(method, path, token, body string) (int, http.Header, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// get sends an auditor's GET and decodes a 200 answer into v.
func (f *fixture) get(path string, v any) {
	f.t.Helper()
	code, _, b := f.do("GET", path, auditorToken, "")
	if code != 200 {
		f.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		f.t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
}

// accesses returns the access entries journaled so far.
func (f *fixture) accesses() []decision.Access {
	f.t.Helper()
	// Submitted entries are written by the next commit: append one.
	if _, err := f.w.Append(context.Background(), decision.KindAccess, "flush", decision.Access{ID: "flush"}, nil); err != nil {
		f.t.Fatal(err)
	}
	var out []decision.Access
	err := f.st.Entries(context.Background(), "gw", 1, 0, func(e decision.Entry) error {
		if e.Kind == decision.KindAccess && e.RecordID != "flush" {
			var a decision.Access
			if err := json.Unmarshal(e.Payload, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// jwtIssuer is a local authorization server with a JWKS.
type jwtIssuer struct {
	key  *rsa.PrivateKey
	srv  *httptest.Server
	once sync.Once
}

func newIssuer(t *testing.T) *jwtIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &jwtIssuer{key: key}
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

// token signs claims (iss, aud, exp and iat filled in unless given).
func (is *jwtIssuer) token(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	for k, v := range map[string]any{"iss": "https://idp.test", "aud": "ehigate-admin", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()} {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(is.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// transition replays transitions as the gateway's components do.
func (f *fixture) transition(r *decision.Record, tr decision.Transition) error {
	return errorsJoin(notices.Apply(r, tr), hold.Apply(r, tr))
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type httpRequest struct {
	method string
	url    *url.URL
}

func (r *httpRequest) request() *http.Request {
	return &http.Request{Method: r.method, URL: r.url, Header: http.Header{}}
}
