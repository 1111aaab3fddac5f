package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var knownReasons = map[string]bool{
	ReasonMalformed: true, ReasonTooLarge: true, ReasonQueryToken: true, ReasonScheme: true,
	ReasonUnknownIssuer: true, ReasonAlgorithm: true, ReasonUnknownKey: true, ReasonSignature: true,
	ReasonExpired: true, ReasonNotYetValid: true, ReasonIssuedInFuture: true, ReasonMissingClaim: true,
	ReasonAudience: true, ReasonInactive: true, ReasonIntrospection: true, ReasonOpaque: true, ReasonInvalid: true,
}

// FuzzIdentify feeds arbitrary Authorization headers and query strings to
// an Authenticator in verify mode and in passthrough mode. Nothing may
// panic, a verify-mode requester is either verified or anonymous, and an
// error says only its reason, never a part of the input.
func FuzzIdentify(f *testing.F) {
	fx := &fixture{now: testNow, rsa1: rsaKey(f, "rsa-1"), ec1: ecKey(f, "ec-1")}
	fx.jwks1 = newJWKS(f, fx.rsa1, fx.ec1)
	good := fx.rsa1.sign(f, fx.claimsFor(iss1))
	for _, s := range []string{
		"Bearer " + good,
		"Bearer " + fx.ec1.sign(f, fx.claimsFor(iss1, "aud", []string{"x", audience})),
		"Bearer " + fx.rsa1.sign(f, fx.claimsFor(iss1, "exp", nil)),
		"Bearer " + good[:len(good)-3],
		"bearer " + strings.Replace(good, ".", "..", 1),
		"Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
		"Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.e30~~~.c2ln",
		"Basic dTpw", "Bearer", "Bearer  ", "Bearer opaque-1", "Bearer a=b=",
	} {
		f.Add(s, "")
	}
	f.Add("", "access_token="+good)
	f.Add("", "code=x&access%5Ftoken=abc")
	mk := func(mode Mode, allowQuery bool) *Authenticator {
		a, err := New(context.Background(), Options{
			Mode:            mode,
			Issuers:         []Issuer{{Issuer: iss1, JWKSURL: fx.jwks1.URL, Audience: audience}},
			AllowQueryToken: allowQuery,
			Clock:           func() time.Time { return testNow },
		})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { a.Close() })
		return a
	}
	verify, verifyQ, pass := mk(ModeVerify, false), mk(ModeVerify, true), mk(ModePassthrough, false)
	f.Fuzz(func(t *testing.T, header, query string) {
		r := httptest.NewRequest(http.MethodGet, "/fhir/Patient", nil)
		r.URL.RawQuery = query
		if header != "" {
			r.Header["Authorization"] = []string{header}
		}
		for _, a := range []*Authenticator{verify, verifyQ, pass} {
			who, err := a.Identify(r)
			if err != nil {
				var te *TokenError
				if !errors.As(err, &te) || !knownReasons[te.Reason] || err.Error() != "auth: token refused: "+te.Reason {
					t.Fatalf("error %q", err)
				}
				if !who.Anonymous() || who.Verified {
					t.Fatalf("refused token identified %+v", who)
				}
				continue
			}
			if a.Mode() == ModeVerify && !who.Verified && !who.Anonymous() {
				t.Fatalf("unverified identity in verify mode: %+v", who)
			}
			if a.Mode() == ModePassthrough && who.Verified {
				t.Fatalf("verified in passthrough: %+v", who)
			}
		}
	})
	_ = jwt.SigningMethodRS256
}
