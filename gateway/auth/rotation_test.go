package auth

import (
	"errors"
	"sync"
	"testing"
)

// TestKeyRotation rotates the issuer's keys mid-test: a token signed with
// the new key (an unknown kid) makes the gateway fetch the JWKS again, and
// the retired key stops working. A flood of tokens with unknown kids then
// gets no further fetch: refreshes are rate-limited.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	if n := f.jwks1.hits.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches at start, want 1", n)
	}
	if _, err := f.a.Identify(bearer(f.rsa1.sign(t, f.claimsFor(iss1, "jti", "before")))); err != nil {
		t.Fatalf("before rotation: %v", err)
	}

	next := rsaKey(t, "rsa-next")
	f.jwks1.rotate(next, f.ec1) // rsa-1 retired
	if _, err := f.a.Identify(bearer(next.sign(t, f.claimsFor(iss1, "jti", "after")))); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if n := f.jwks1.hits.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after rotation, want 2", n)
	}
	// The retired key is gone from the refreshed set.
	_, err := f.a.Identify(bearer(f.rsa1.sign(t, f.claimsFor(iss1, "jti", "retired"))))
	var te *TokenError
	if !errors.As(err, &te) || te.Reason != ReasonUnknownKey {
		t.Fatalf("token of the retired key: %v", err)
	}

	// A flood of unknown kids, concurrently, while valid tokens keep working.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var refusedN, validErr int
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := next
			k.kid = "flood-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			_, err := f.a.Identify(bearer(k.sign(t, f.claimsFor(iss1, "jti", k.kid))))
			_, verr := f.a.Identify(bearer(next.sign(t, f.claimsFor(iss1, "jti", "ok-"+k.kid))))
			mu.Lock()
			defer mu.Unlock()
			if errors.As(err, new(*TokenError)) {
				refusedN++
			}
			if verr != nil {
				validErr++
			}
		}()
	}
	wg.Wait()
	if refusedN != 200 || validErr != 0 {
		t.Errorf("%d of 200 unknown kids refused, %d valid tokens refused", refusedN, validErr)
	}
	if n := f.jwks1.hits.Load(); n != 2 {
		t.Errorf("the flood caused %d more JWKS fetches, want none within the refresh interval", n-2)
	}
	t.Logf("JWKS fetched %d times for 1 rotation and 200 unknown kids", f.jwks1.hits.Load())
}
