package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/gateway/auth"
)

const testIssuer = "https://as.example.org"

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// issuerKit is an authorization server for tests: an RSA key published in
// an httptest JWKS, and tokens signed with it.
type issuerKit struct {
	key  *rsa.PrivateKey
	jwks *httptest.Server
}

func newIssuerKit(t *testing.T) *issuerKit {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ik := &issuerKit{key: k}
	b64 := base64.RawURLEncoding.EncodeToString
	set := fmt.Sprintf(`{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","n":%q,"e":%q}]}`,
		b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes()))
	ik.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, set)
	}))
	t.Cleanup(ik.jwks.Close)
	return ik
}

// token signs claims (defaults: valid for the audience, for ten minutes)
// with the kit's key; extra pairs override them, nil deleting a claim.
func (ik *issuerKit) token(t testing.TB, aud string, extra ...any) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{
		"iss": testIssuer, "aud": aud, "sub": "user-1", "client_id": "app-1",
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"scope": "openid fhirUser launch/patient patient/*.rs", "patient": "demo-1", "fhirUser": "Patient/demo-1",
		"purpose_of_use": "PATRQT",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(c, extra[i].(string))
		} else {
			c[extra[i].(string)] = extra[i+1]
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(ik.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withAuth configures the gateway to verify the kit's tokens (audience:
// the public base) and to enforce scopes.
func (ik *issuerKit) withAuth(t *testing.T, mode auth.Mode, mutate ...func(*auth.Options)) func(*gateway.Options) {
	return func(o *gateway.Options) {
		opts := auth.Options{
			Mode:          mode,
			Issuers:       []auth.Issuer{{Issuer: testIssuer, JWKSURL: ik.jwks.URL, Audience: o.PublicBase.String()}},
			Classes:       []auth.ClassRule{{Class: decision.ClassPatient, Claims: map[string][]string{"scope": {"launch/patient"}}}},
			DefaultClass:  decision.ClassApp,
			PurposeClaims: []string{"purpose_of_use"},
			Logger:        o.Logger,
		}
		for _, m := range mutate {
			m(&opts)
		}
		a, err := auth.New(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		o.Identifier = a
		o.RequireIdentity = mode == auth.ModeVerify
		o.Scopes = gateway.ScopeOptions{Enforce: mode == auth.ModeVerify, DenialException: "security.organizational-policy"}
	}
}

// do sends a request with a bearer token ("" for none) and returns the
// response and its body.
func do(t *testing.T, method, url, token string, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// patientUpstream answers every request with one Patient, counting hits.
func patientUpstream(hits *int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"Patient","id":"demo-1"}`)
	})
}

// TestBadTokens sends each kind of bad token through the gateway: each is
// answered 401 with an OperationOutcome and a WWW-Authenticate challenge,
// never reaches the upstream, and is recorded as unauthenticated.
func TestBadTokens(t *testing.T) {
	ik := newIssuerKit(t)
	hits := 0
	hs := newHarness(t, patientUpstream(&hits), ik.withAuth(t, auth.ModeVerify), func(o *gateway.Options) {
		o.Limits.MaxHeaderBytes = 64 << 10
	})
	aud := hs.base
	none := func() string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": testIssuer, "aud": aud, "exp": time.Now().Add(time.Hour).Unix()}).
			SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs256 := func() string {
		der, _ := x509.MarshalPKIXPublicKey(&ik.key.PublicKey)
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": testIssuer, "aud": aud, "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	unknownKid := func() string {
		tok := ik.token(t, aud)
		h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k-unknown", "typ": "JWT"})
		return base64.RawURLEncoding.EncodeToString(h) + tok[strings.Index(tok, "."):]
	}
	tests := []struct {
		name  string
		token string
		query string
	}{
		{"no token", "", ""},
		{"alg none", none(), ""},
		{"HS256 signed with the RSA public key", hs256(), ""},
		{"unknown kid", unknownKid(), ""},
		{"expired", ik.token(t, aud, "exp", time.Now().Add(-time.Hour).Unix()), ""},
		{"not yet valid", ik.token(t, aud, "nbf", time.Now().Add(time.Hour).Unix()), ""},
		{"wrong audience", ik.token(t, "https://elsewhere.example/fhir"), ""},
		{"wrong issuer", ik.token(t, aud, "iss", "https://evil.example"), ""},
		{"malformed base64", "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.@@@.c2ln", ""},
		{"1 MB token", strings.Repeat("A", 1<<20), ""},
		{"token in the query string", "", "access_token=" + ik.token(t, aud)},
	}
	ids := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := hs.base + "/Patient/demo-1"
			if tc.query != "" {
				u += "?" + tc.query
			}
			resp, body := do(t, http.MethodGet, u, tc.token, "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d: %.300s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			var oo outcomeDoc
			if err := json.Unmarshal(body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 || oo.Issue[0].Code != "login" {
				t.Errorf("body %.300s", body)
			}
			ids[tc.name] = resp.Header.Get(gateway.HeaderDecision)
		})
	}
	if hits != 0 {
		t.Errorf("%d bad requests reached the upstream", hits)
	}
	// Public endpoints stay reachable without a token.
	if resp, body := do(t, http.MethodGet, hs.base+"/metadata", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("metadata without a token: %d %.200s", resp.StatusCode, body)
	}
	recs := byID(t, hs.records())
	for name, id := range ids {
		r, ok := recs[id]
		switch {
		case !ok:
			t.Errorf("%s: no record", name)
		case r.Action != decision.Error || r.Reason != "unauthenticated" || r.Status != http.StatusUnauthorized:
			t.Errorf("%s: record action %s reason %q status %d", name, r.Action, r.Reason, r.Status)
		case r.Requester.Verified || r.Requester.Subject != "":
			t.Errorf("%s: record identifies %+v", name, r.Requester)
		}
	}
}

// TestScopeDenials: requests outside the token's scopes are denied with a
// notice naming the configured exception, recorded with their reason, and
// never forwarded.
func TestScopeDenials(t *testing.T) {
	ik := newIssuerKit(t)
	hits := 0
	hs := newHarness(t, patientUpstream(&hits), ik.withAuth(t, auth.ModeVerify))
	limited := ik.token(t, hs.base, "scope", "launch/patient patient/Patient.r")
	tests := []struct {
		name, method, path, body, token, reason string
	}{
		{"type not granted", "GET", "/Observation?patient=demo-1", "", limited, "out-of-scope"},
		{"search with read only", "GET", "/Patient?name=x", "", limited, "out-of-scope"},
		{"write not granted", "POST", "/Patient", `{"resourceType":"Patient","id":"demo-1"}`, limited, "out-of-scope"},
		{"another patient", "GET", "/Patient/demo-2", "", limited, "wrong-patient"},
		{"another patient's compartment", "GET", "/Patient/demo-2/Observation", "", ik.token(t, hs.base), "wrong-patient"},
		{"export in a patient context", "GET", "/Patient/$export", "", ik.token(t, hs.base), "out-of-scope"},
		{"a raw Binary in a patient context", "GET", "/Binary/b1", "", ik.token(t, hs.base), "wrong-patient"},
		{"XML in a patient context", "GET", "/Patient/demo-1?_format=xml", "", ik.token(t, hs.base), "wrong-patient"},
	}
	ids := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, hs.base+tc.path, tc.token, tc.body)
			var oo outcomeDoc
			if resp.StatusCode != http.StatusForbidden || json.Unmarshal(body, &oo) != nil || len(oo.Issue) == 0 || oo.Issue[0].Code != "forbidden" {
				t.Fatalf("status %d: %.400s", resp.StatusCode, body)
			}
			id := resp.Header.Get(gateway.HeaderDecision)
			if !strings.Contains(oo.Issue[0].Diagnostics, id) || !strings.Contains(string(body), "security.organizational-policy") {
				t.Errorf("notice lacks the decision id or the exception: %s", body)
			}
			if strings.Contains(string(body), "demo-2") {
				t.Errorf("notice names the other patient: %s", body)
			}
			ids[tc.name] = id
		})
	}
	if hits != 0 {
		t.Errorf("%d denied requests reached the upstream", hits)
	}
	recs := byID(t, hs.records())
	for _, tc := range tests {
		r := recs[ids[tc.name]]
		if r.Action != decision.Deny || r.Reason != tc.reason || r.Exception == nil || r.Exception.Code != "security.organizational-policy" {
			t.Errorf("%s: record %s %q %+v", tc.name, r.Action, r.Reason, r.Exception)
		}
		if !r.Requester.Verified || r.Requester.Patient != "demo-1" || r.Requester.Class != decision.ClassPatient {
			t.Errorf("%s: requester %+v", tc.name, r.Requester)
		}
	}
}

// TestRequesterRecorded: the record carries who asked (subject, client,
// issuer, class, scopes, purpose, a hash of the jti) and never the token.
func TestRequesterRecorded(t *testing.T) {
	ik := newIssuerKit(t)
	hits := 0
	hs := newHarness(t, patientUpstream(&hits), ik.withAuth(t, auth.ModeVerify))
	tok := ik.token(t, hs.base, "jti", "jti-42")
	resp, body := do(t, http.MethodGet, hs.base+"/Patient/demo-1", tok, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	r := byID(t, hs.records())[resp.Header.Get(gateway.HeaderDecision)]
	w := r.Requester
	if w.Subject != "user-1" || w.ClientID != "app-1" || w.Issuer != testIssuer || w.Class != decision.ClassPatient ||
		strings.Join(w.Scopes, " ") != "openid fhirUser launch/patient patient/*.rs" || strings.Join(w.Purpose, ",") != "PATRQT" ||
		w.Patient != "demo-1" || w.FHIRUser != "Patient/demo-1" || !w.Verified || w.Addr == "" {
		t.Errorf("requester %+v", w)
	}
	if w.TokenHash != sha256Hex("jti-42") {
		t.Errorf("token hash %q is not the SHA-256 of the jti", w.TokenHash)
	}
	if r.HasFlag(decision.FlagIdentityUnverified) {
		t.Error("verified requester flagged unverified")
	}
}

// TestPassthroughFlag: in passthrough mode the token is read, not
// verified, and the record says so; scopes are left to the EHR.
func TestPassthroughFlag(t *testing.T) {
	ik := newIssuerKit(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	hits := 0
	hs := newHarness(t, patientUpstream(&hits), ik.withAuth(t, auth.ModePassthrough))
	// Signed by a key the gateway does not know, for another audience.
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://ehr-as.example", "sub": "u-9", "client_id": "c-9",
		"scope": "user/*.rs", "exp": time.Now().Add(time.Hour).Unix(), "aud": "somewhere"})
	s, _ := tok.SignedString(other)
	resp, _ := do(t, http.MethodGet, hs.base+"/Observation?code=x", s, "")
	resp2, _ := do(t, http.MethodGet, hs.base+"/Patient/demo-1", "", "")
	if resp.StatusCode != http.StatusOK || resp2.StatusCode != http.StatusOK || hits != 2 {
		t.Fatalf("status %d / %d, %d upstream hits", resp.StatusCode, resp2.StatusCode, hits)
	}
	recs := byID(t, hs.records())
	r := recs[resp.Header.Get(gateway.HeaderDecision)]
	if !r.HasFlag(decision.FlagIdentityUnverified) || r.Requester.Verified || r.Requester.Subject != "u-9" || r.Requester.Class != decision.ClassApp {
		t.Errorf("passthrough record: flags %v requester %+v", r.Flags, r.Requester)
	}
	if r2 := recs[resp2.Header.Get(gateway.HeaderDecision)]; r2.HasFlag(decision.FlagIdentityUnverified) || !r2.Requester.Anonymous() {
		t.Errorf("anonymous passthrough record: flags %v requester %+v", r2.Flags, r2.Requester)
	}
}

// TestSmartConfiguration: the configured document is served as is, with
// no token; without one the upstream's is proxied with its URLs rewritten.
func TestSmartConfiguration(t *testing.T) {
	ik := newIssuerKit(t)
	doc := []byte(`{"token_endpoint":"https://as.example.org/token","capabilities":["launch-standalone","permission-v2"]}`)
	hits := 0
	hs := newHarness(t, patientUpstream(&hits), ik.withAuth(t, auth.ModeVerify), func(o *gateway.Options) { o.SmartConfiguration = doc })
	resp, body := do(t, http.MethodGet, hs.base+"/.well-known/smart-configuration", "", "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, doc) || resp.Header.Get("Content-Type") != "application/json" || hits != 0 {
		t.Errorf("configured: %d %q %s, %d upstream hits", resp.StatusCode, resp.Header.Get("Content-Type"), body, hits)
	}

	var upBase string
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_endpoint":"https://as.example.org/token","management_endpoint":"%s/manage"}`, upBase)
	})
	hp := newHarness(t, up, ik.withAuth(t, auth.ModeVerify))
	upBase = hp.upBase
	resp, body = do(t, http.MethodGet, hp.base+"/.well-known/smart-configuration", "", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), hp.base+"/manage") || strings.Contains(string(body), hp.upBase) {
		t.Errorf("proxied: %d %s", resp.StatusCode, body)
	}
}

// TestTokensNeverLogged runs requests with distinctive tokens, good and
// bad, through a gateway logging at debug level, then looks for the
// tokens (and every 8-character piece of their signatures) in the log, in
// the records, in the journal entries and in the store's files.
func TestTokensNeverLogged(t *testing.T) {
	ik := newIssuerKit(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hits := 0
	hs := newHarness(t, patientUpstream(&hits), func(o *gateway.Options) { o.Logger = logger }, ik.withAuth(t, auth.ModeVerify))
	aud := hs.base
	tokens := []string{
		ik.token(t, aud, "jti", "distinct-1"),
		ik.token(t, aud, "jti", nil, "sub", "no-jti"),
		ik.token(t, aud, "exp", time.Now().Add(-time.Hour).Unix()),
		ik.token(t, "https://other.example", "sub", "wrong-aud"),
		ik.token(t, aud, "scope", "patient/Observation.rs"),
		"opaque-token-Zq8Xv2LmN4pR7tW1yB6cD9fH3jK5",
	}
	for _, tok := range tokens {
		do(t, http.MethodGet, hs.base+"/Patient/demo-1", tok, "")
		do(t, http.MethodGet, hs.base+"/Patient/demo-2", tok, "")
		do(t, http.MethodGet, hs.base+"/Observation?access_token="+tok, "", "")
	}
	recs := hs.records()
	if len(recs) != 3*len(tokens) {
		t.Fatalf("%d records for %d requests", len(recs), 3*len(tokens))
	}
	var hay bytes.Buffer
	for _, r := range recs {
		b, _ := json.Marshal(r)
		hay.Write(b)
	}
	if err := hs.st.Entries(context.Background(), "test", 0, ^uint64(0), func(e decision.Entry) error {
		hay.Write(e.Payload)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The harness keeps its store in one of this test's temporary folders,
	// which share a parent.
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "records.db*"))
	if len(files) == 0 {
		t.Fatal("store files not found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			hay.Write(b)
		}
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged at debug level")
	}
	for where, text := range map[string][]byte{"log": logs.Bytes(), "records and store": hay.Bytes()} {
		for _, tok := range tokens {
			if bytes.Contains(text, []byte(tok)) {
				t.Errorf("a token is in the %s", where)
				continue
			}
			sig := tok[strings.LastIndexByte(tok, '.')+1:]
			for i := 0; i+8 <= len(sig); i++ {
				if bytes.Contains(text, []byte(sig[i:i+8])) {
					t.Errorf("the %s holds %q, part of a token's signature", where, sig[i:i+8])
					break
				}
			}
		}
	}
}

// BenchmarkGatewaySearchPatientToken is BenchmarkGatewaySearch with a
// verified patient-context token: identity (a cached token), the scope
// check and the narrowing of the search, and every entry of the 20-entry
// page checked against the grant (here every entry is the patient's own).
func BenchmarkGatewaySearchPatientToken(b *testing.B) {
	ehr := loadSynthea(b, smallestSynthea(b, 1)...)
	patient := ehr.patients[0]
	t := &testing.T{}
	ik := newIssuerKit(t)
	hs := newHarness(t, searchPageHandler(b, 20), ik.withAuth(t, auth.ModeVerify))
	tok := ik.token(b, hs.base, "patient", patient)
	c := client()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	url := hs.base + "/Observation?code=x"
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || n == 0 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.StopTimer()
	hs.close()
}
