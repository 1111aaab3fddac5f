package auth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ehigate/ehigate/decision"
)

const (
	iss1     = "https://as1.example.org"
	iss2     = "https://as2.example.org"
	audience = "https://gateway.example.org/fhir"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// fixture is an Authenticator in verify mode trusting two issuers.
type fixture struct {
	a          *Authenticator
	rsa1, ec1  testKey
	rsa2       testKey
	jwks1      *jwksServer
	jwks2      *jwksServer
	now        time.Time
	introCalls func() int64
}

func (f *fixture) clock() time.Time { return f.now }

func newFixture(t *testing.T, mutate ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{rsa1: rsaKey(t, "rsa-1"), ec1: ecKey(t, "ec-1"), rsa2: rsaKey(t, "rsa-2"), now: testNow}
	f.jwks1 = newJWKS(t, f.rsa1, f.ec1)
	f.jwks2 = newJWKS(t, f.rsa2)
	opts := Options{
		Mode: ModeVerify,
		Issuers: []Issuer{
			{Issuer: iss1, JWKSURL: f.jwks1.URL, Audience: audience},
			{Issuer: iss2, JWKSURL: f.jwks2.URL, Audience: audience, Algorithms: []string{"RS256"}},
		},
		Clock: func() time.Time { return f.now },
	}
	for _, m := range mutate {
		m(&opts)
	}
	a, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	f.a = a
	return f
}

// claimsFor returns valid claims of issuer iss at the fixture's time.
func (f *fixture) claimsFor(iss string, extra ...any) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": iss, "sub": "user-7", "aud": audience, "client_id": "app-1",
		"iat": f.now.Add(-time.Minute).Unix(), "nbf": f.now.Add(-time.Minute).Unix(), "exp": f.now.Add(10 * time.Minute).Unix(),
		"jti": "jti-" + iss, "scope": "launch/patient openid fhirUser patient/Observation.rs", "patient": "p1", "fhirUser": "Patient/p1",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(c, extra[i].(string))
			continue
		}
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/fhir/Observation", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func TestIdentifyVerify(t *testing.T) {
	f := newFixture(t)
	hs256 := func() string {
		// The classic confusion: HS256 keyed with the issuer's RSA public key.
		der, _ := x509.MarshalPKIXPublicKey(f.rsa1.signer.Public())
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, f.claimsFor(iss1))
		tok.Header["kid"] = "rsa-1"
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, f.claimsFor(iss1))
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stranger := rsaKey(t, "rsa-1") // same kid, another key
	ec2 := ecKey(t, "rsa-2")       // an algorithm issuer 2 does not allow
	tests := []struct {
		name   string
		req    func() *http.Request
		reason string
	}{
		{"RS256 of issuer 1", func() *http.Request { return bearer(f.rsa1.sign(t, f.claimsFor(iss1))) }, ""},
		{"ES256 of issuer 1", func() *http.Request { return bearer(f.ec1.sign(t, f.claimsFor(iss1, "jti", "e"))) }, ""},
		{"RS256 of issuer 2", func() *http.Request { return bearer(f.rsa2.sign(t, f.claimsFor(iss2))) }, ""},
		{"audience among several", func() *http.Request {
			return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "aud", []string{"other", audience})))
		}, ""},
		{"within leeway after exp", func() *http.Request {
			return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "exp", f.now.Add(-10*time.Second).Unix())))
		}, ""},
		{"expired", func() *http.Request {
			return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "exp", f.now.Add(-time.Minute).Unix())))
		}, ReasonExpired},
		{"not yet valid", func() *http.Request {
			return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "nbf", f.now.Add(time.Minute).Unix())))
		}, ReasonNotYetValid},
		{"issued in the future", func() *http.Request {
			return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "iat", f.now.Add(time.Minute).Unix())))
		}, ReasonIssuedInFuture},
		{"no exp", func() *http.Request { return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "exp", nil))) }, ReasonMissingClaim},
		{"wrong audience", func() *http.Request { return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "aud", "https://other.example"))) }, ReasonAudience},
		{"no audience", func() *http.Request { return bearer(f.rsa1.sign(t, f.claimsFor(iss1, "aud", nil))) }, ReasonAudience},
		{"wrong issuer", func() *http.Request { return bearer(f.rsa1.sign(t, f.claimsFor("https://evil.example"))) }, ReasonUnknownIssuer},
		{"issuer 2 signed by issuer 1's key", func() *http.Request {
			k := f.rsa1
			k.kid = "rsa-1"
			return bearer(k.sign(t, f.claimsFor(iss2)))
		}, ReasonUnknownKey},
		{"algorithm the issuer does not allow", func() *http.Request { return bearer(ec2.sign(t, f.claimsFor(iss2))) }, ReasonAlgorithm},
		{"alg none", func() *http.Request { return bearer(none()) }, ReasonSignature},
		{"HS256 keyed with the RSA public key", func() *http.Request { return bearer(hs256()) }, ReasonSignature},
		{"known kid, other key", func() *http.Request { return bearer(stranger.sign(t, f.claimsFor(iss1))) }, ReasonSignature},
		{"unknown kid", func() *http.Request {
			k := rsaKey(t, "nobody")
			return bearer(k.sign(t, f.claimsFor(iss1)))
		}, ReasonUnknownKey},
		{"malformed base64", func() *http.Request { return bearer("eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.e30~~~.c2lnbmF0dXJl") }, ReasonMalformed},
		{"malformed JSON", func() *http.Request { return bearer("bm90LWpzb24.bm90LWpzb24.c2ln") }, ReasonMalformed},
		{"not a b64token", func() *http.Request { return bearer("abc def") }, ReasonMalformed},
		{"empty bearer", func() *http.Request { return bearer("") }, ReasonMalformed},
		{"opaque without introspection", func() *http.Request { return bearer("opaque-token-123") }, ReasonOpaque},
		{"too large", func() *http.Request { return bearer(strings.Repeat("a", DefaultMaxTokenBytes+1)) }, ReasonTooLarge},
		{"1 MB", func() *http.Request { return bearer(strings.Repeat("a", 1<<20)) }, ReasonTooLarge},
		{"query token when not allowed", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/fhir/Observation?access_token="+f.rsa1.sign(t, f.claimsFor(iss1)), nil)
		}, ReasonQueryToken},
		{"basic scheme", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/fhir/Observation", nil)
			r.SetBasicAuth("u", "p")
			return r
		}, ReasonScheme},
		{"two Authorization headers", func() *http.Request {
			r := bearer(f.rsa1.sign(t, f.claimsFor(iss1)))
			r.Header.Add("Authorization", "Bearer x")
			return r
		}, ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req()
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			who, err := f.a.Identify(r)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !who.Verified || who.Subject != "user-7" || who.ClientID != "app-1" || who.Patient != "p1" ||
					who.FHIRUser != "Patient/p1" || len(who.Scopes) != 4 || who.TokenHash == "" || who.Issuer == "" {
					t.Errorf("requester %+v", who)
				}
				return
			}
			var te *TokenError
			if !errors.As(err, &te) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err %v (%+v), want reason %s", err, who, tc.reason)
			}
			if te.Reason != tc.reason {
				t.Fatalf("reason %q, want %q (cause %v)", te.Reason, tc.reason, te.Err)
			}
			if !who.Anonymous() || who.Verified || len(who.Scopes) > 0 {
				t.Errorf("a refused token identified %+v", who)
			}
			if len(tok) >= 8 && strings.Contains(err.Error(), tok[len(tok)-8:]) {
				t.Errorf("error %q holds part of the token", err)
			}
		})
	}
}

func TestIdentifyAnonymousAndOff(t *testing.T) {
	f := newFixture(t)
	who, err := f.a.Identify(httptest.NewRequest(http.MethodGet, "/fhir/metadata", nil))
	if err != nil || !who.Anonymous() || who.TokenHash != "" {
		t.Errorf("no token: %+v, %v", who, err)
	}
	off, err := New(context.Background(), Options{Mode: ModeOff})
	if err != nil {
		t.Fatal(err)
	}
	who, err = off.Identify(bearer(f.rsa1.sign(t, f.claimsFor(iss1))))
	if err != nil || !who.Anonymous() {
		t.Errorf("off mode: %+v, %v", who, err)
	}
}

func TestQueryToken(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.AllowQueryToken = true })
	tok := f.rsa1.sign(t, f.claimsFor(iss1))
	who, err := f.a.Identify(httptest.NewRequest(http.MethodGet, "/fhir/Observation?code=x&access_token="+tok, nil))
	if err != nil || !who.Verified {
		t.Fatalf("query token: %+v, %v", who, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/fhir/Observation?access_token="+tok, nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if _, err := f.a.Identify(r); err == nil {
		t.Error("a token in both the header and the query was accepted")
	}
}

func TestTokenCache(t *testing.T) {
	f := newFixture(t)
	tok := f.rsa1.sign(t, f.claimsFor(iss1))
	if _, err := f.a.Identify(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	if n := f.a.cache.len(); n != 1 {
		t.Fatalf("cache holds %d", n)
	}
	// Remembered: answered even with the JWKS gone.
	f.jwks1.rotate()
	if _, err := f.a.Identify(bearer(tok)); err != nil {
		t.Fatalf("cached token refused: %v", err)
	}
	// Past exp+leeway it is verified again, and refused.
	f.now = f.now.Add(11 * time.Minute)
	if _, err := f.a.Identify(bearer(tok)); err == nil {
		t.Fatal("expired cached token accepted")
	}
}

func TestCacheBound(t *testing.T) {
	c := newCache(8)
	for i := range 100 {
		var k tokenKey
		k[0], k[1] = byte(i), byte(i>>8)
		c.put(k, cached{till: testNow.Add(time.Hour)}, testNow)
		if c.len() > 8 {
			t.Fatalf("cache grew to %d", c.len())
		}
	}
}

// TestTokenHash checks that records of one token are linkable without it.
func TestTokenHash(t *testing.T) {
	f := newFixture(t)
	a := f.rsa1.sign(t, f.claimsFor(iss1, "jti", "same"))
	b := f.rsa1.sign(t, f.claimsFor(iss1, "jti", "same", "sub", "other"))
	c := f.rsa1.sign(t, f.claimsFor(iss1, "jti", nil))
	wa, _ := f.a.Identify(bearer(a))
	wb, _ := f.a.Identify(bearer(b))
	wc, _ := f.a.Identify(bearer(c))
	if wa.TokenHash != tokenHash("same", "") || wa.TokenHash != wb.TokenHash {
		t.Errorf("jti hashes differ: %s %s", wa.TokenHash, wb.TokenHash)
	}
	if wc.TokenHash != tokenHash("", c) || len(wc.TokenHash) != 64 {
		t.Errorf("token without jti: %s", wc.TokenHash)
	}
	for _, h := range []string{wa.TokenHash, wc.TokenHash} {
		if strings.Contains(c, h) || strings.Contains(a, h) {
			t.Error("hash is part of the token")
		}
	}
}

func TestOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"verify without issuers", Options{Mode: ModeVerify}},
		{"unknown mode", Options{Mode: "maybe"}},
		{"HS256", Options{Mode: ModeVerify, Issuers: []Issuer{{Issuer: "x", JWKSURL: "http://127.0.0.1:1/jwks", Audience: "a", Algorithms: []string{"HS256"}}}}},
		{"none", Options{Mode: ModeVerify, Issuers: []Issuer{{Issuer: "x", JWKSURL: "http://127.0.0.1:1/jwks", Audience: "a", Algorithms: []string{"none"}}}}},
		{"no key source", Options{Mode: ModeVerify, Issuers: []Issuer{{Issuer: "x", Audience: "a"}}}},
		{"no audience", Options{Mode: ModeVerify, Issuers: []Issuer{{Issuer: "x", JWKSURL: "http://127.0.0.1:1/jwks"}}}},
		{"duplicate issuer", Options{Mode: ModePassthrough, Issuers: []Issuer{{Issuer: "x"}, {Issuer: "x"}}}},
		{"leeway too long", Options{Mode: ModePassthrough, Leeway: time.Hour}},
		{"unknown class", Options{Mode: ModePassthrough, Classes: []ClassRule{{Class: "admin"}}}},
		{"unknown default class", Options{Mode: ModePassthrough, DefaultClass: "admin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(context.Background(), tc.opts); err == nil {
				t.Error("accepted")
			}
		})
	}
	_ = decision.ClassPatient
}

func TestQueryTokenSpellings(t *testing.T) {
	tests := []struct {
		raw   string
		tok   string
		found bool
	}{
		{"", "", false},
		{"code=x", "", false},
		{"access_token=abc", "abc", true},
		{"code=x&access_token=a%2Bb", "a+b", true},
		{"%61ccess_token=abc", "abc", true},
		{"access%5Ftoken=abc", "abc", true},
		{"access_tokens=abc", "", false},
		{"access_token=a&access_token=b", "a b", true},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			tok, found := queryToken(tc.raw)
			if tok != tc.tok || found != tc.found {
				t.Errorf("got %q %v", tok, found)
			}
		})
	}
}
