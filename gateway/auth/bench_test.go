package auth

import (
	"context"
	"testing"
)

// BenchmarkIdentifyCached is the cost per request of a token seen before:
// a SHA-256 of the token and a cache lookup.
func BenchmarkIdentifyCached(b *testing.B) {
	f := benchFixture(b)
	r := bearer(f.rsa1.sign(b, f.claimsFor(iss1)))
	if _, err := f.a.Identify(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.a.Identify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRS256 is the cost of a token seen for the first time:
// parsing, an RS256 signature check and claim validation.
func BenchmarkVerifyRS256(b *testing.B) {
	f := benchFixture(b)
	tok := f.rsa1.sign(b, f.claimsFor(iss1))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.a.identify(context.Background(), tok, f.now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyES256 is BenchmarkVerifyRS256 with an ES256 token.
func BenchmarkVerifyES256(b *testing.B) {
	f := benchFixture(b)
	tok := f.ec1.sign(b, f.claimsFor(iss1))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.a.identify(context.Background(), tok, f.now); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFixture(b *testing.B) *fixture {
	f := &fixture{rsa1: rsaKey(b, "rsa-1"), ec1: ecKey(b, "ec-1"), now: testNow}
	f.jwks1 = newJWKS(b, f.rsa1, f.ec1)
	a, err := New(context.Background(), Options{
		Mode:    ModeVerify,
		Issuers: []Issuer{{Issuer: iss1, JWKSURL: f.jwks1.URL, Audience: audience}},
		Clock:   f.clock,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	f.a = a
	return f
}
