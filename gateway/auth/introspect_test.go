package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// introspectionServer is an RFC 7662 endpoint answering from a table.
func introspectionServer(t *testing.T, answers map[string]map[string]any, calls *atomic.Int64) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		// RFC 6749 §2.3.1: both parts are form-encoded inside Basic.
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if !ok || id != "gateway" || secret != "s3cret:&" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		tok := r.PostFormValue("token")
		if tok == "broken" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		ans, ok := answers[tok]
		if !ok {
			ans = map[string]any{"active": false}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ans)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestIntrospection(t *testing.T) {
	now := testNow
	active := func(extra ...any) map[string]any {
		m := map[string]any{"active": true, "scope": "patient/*.rs launch/patient", "client_id": "app-9", "sub": "u-1",
			"patient": "p7", "exp": float64(now.Add(time.Hour).Unix()), "iss": iss1, "aud": []any{audience}}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == nil {
				delete(m, extra[i].(string))
			} else {
				m[extra[i].(string)] = extra[i+1]
			}
		}
		return m
	}
	answers := map[string]map[string]any{
		"good":         active(),
		"good-no-exp":  active("exp", nil),
		"expired":      active("exp", float64(now.Add(-time.Hour).Unix())),
		"future":       active("nbf", float64(now.Add(time.Hour).Unix())),
		"other-issuer": active("iss", "https://other.example"),
		"other-aud":    active("aud", "https://other.example/fhir"),
		"jti":          active("jti", "opaque-jti"),
	}
	var calls atomic.Int64
	srv := introspectionServer(t, answers, &calls)
	a, err := New(context.Background(), Options{
		Mode: ModeVerify,
		Issuers: []Issuer{{Issuer: iss1, Audience: audience,
			Introspection: &Introspection{URL: srv.URL, ClientID: "gateway", ClientSecret: "s3cret:&"}}},
		Clock: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tests := []struct {
		token  string
		reason string
	}{
		{"good", ""}, {"good-no-exp", ""}, {"jti", ""},
		{"unknown", ReasonInactive}, {"expired", ReasonExpired}, {"future", ReasonNotYetValid},
		{"other-issuer", ReasonUnknownIssuer}, {"other-aud", ReasonAudience}, {"broken", ReasonIntrospection},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			who, err := a.Identify(bearer(tc.token))
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !who.Verified || who.ClientID != "app-9" || who.Patient != "p7" || who.Issuer != iss1 || len(who.Scopes) != 2 {
					t.Errorf("requester %+v", who)
				}
				return
			}
			var te *TokenError
			if !errors.As(err, &te) || te.Reason != tc.reason {
				t.Fatalf("err %v, want %s", err, tc.reason)
			}
		})
	}
	if w, _ := a.Identify(bearer("jti")); w.TokenHash != tokenHash("opaque-jti", "") {
		t.Error("jti of the introspection answer not hashed")
	}

	// Cached until exp: no second call for a known active token; refusals
	// are kept briefly, failures of the endpoint not at all.
	n := calls.Load()
	for range 5 {
		a.Identify(bearer("good"))
		a.Identify(bearer("unknown"))
	}
	if d := calls.Load() - n; d != 0 {
		t.Errorf("%d introspection calls for cached tokens", d)
	}
	a.Identify(bearer("broken"))
	if d := calls.Load() - n; d != 1 {
		t.Errorf("a failed introspection was cached (%d calls)", d)
	}
	now = now.Add(2 * time.Hour)
	if _, err := a.Identify(bearer("good")); err == nil {
		t.Error("token accepted past its exp")
	}
}

// TestIntrospectionForJWTIssuer: a JWT from an issuer without a JWKS is
// introspected.
func TestIntrospectionForJWTIssuer(t *testing.T) {
	f := &fixture{now: testNow, rsa1: rsaKey(t, "k")}
	tok := f.rsa1.sign(t, f.claimsFor(iss1))
	var calls atomic.Int64
	srv := introspectionServer(t, map[string]map[string]any{tok: {"active": true, "client_id": "c", "exp": float64(testNow.Add(time.Hour).Unix())}}, &calls)
	a, err := New(context.Background(), Options{
		Mode:    ModeVerify,
		Issuers: []Issuer{{Issuer: iss1, Introspection: &Introspection{URL: srv.URL, ClientID: "gateway", ClientSecret: "s3cret:&"}}},
		Clock:   func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	who, err := a.Identify(bearer(tok))
	if err != nil || who.ClientID != "c" || calls.Load() != 1 {
		t.Fatalf("%+v, %v, %d calls", who, err, calls.Load())
	}
}

func TestPassthrough(t *testing.T) {
	a, err := New(context.Background(), Options{Mode: ModePassthrough, Clock: func() time.Time { return testNow },
		Classes: []ClassRule{{Class: "patient", Claims: map[string][]string{"scope": {"launch/patient"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{now: testNow}
	k := rsaKey(t, "unknown-to-the-gateway")
	// Expired and signed by a key nobody published: read, not verified.
	tok := k.sign(t, f.claimsFor("https://anyone.example", "exp", testNow.Add(-time.Hour).Unix()))
	who, err := a.Identify(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if who.Verified || who.Subject != "user-7" || who.Issuer != "https://anyone.example" || who.Class != "patient" || who.TokenHash == "" {
		t.Errorf("requester %+v", who)
	}
	who, err = a.Identify(bearer("opaque-passthrough-token"))
	if err != nil || who.Verified || !who.Anonymous() || who.TokenHash != tokenHash("", "opaque-passthrough-token") {
		t.Errorf("opaque: %+v, %v", who, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/fhir/Patient", nil)
	r.SetBasicAuth("u", "p")
	if who, err := a.Identify(r); err != nil || who.TokenHash != "" {
		t.Errorf("basic auth in passthrough: %+v, %v", who, err)
	}
	if _, err := a.Identify(bearer(string(make([]byte, 40<<10)))); err == nil {
		t.Error("oversized token accepted in passthrough")
	}
}
