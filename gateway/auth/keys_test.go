package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// testKey is a signing key with its kid and algorithm.
type testKey struct {
	kid    string
	alg    jwt.SigningMethod
	signer crypto.Signer
}

func rsaKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, alg: jwt.SigningMethodRS256, signer: k}
}

func ecKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, alg: jwt.SigningMethodES256, signer: k}
}

// jwk returns the public JWK of k.
func (k testKey) jwk() map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": k.kid, "alg": k.alg.Alg(), "use": "sig",
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		e, err := pub.ECDH()
		if err != nil {
			panic(err)
		}
		pt := e.Bytes() // 0x04 || X || Y
		n := (len(pt) - 1) / 2
		return map[string]string{"kty": "EC", "kid": k.kid, "alg": k.alg.Alg(), "use": "sig", "crv": "P-256",
			"x": b64(pt[1 : 1+n]), "y": b64(pt[1+n:])}
	}
	panic("unknown key type")
}

// sign returns a token with claims signed by k (kid in the header).
func (k testKey) sign(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(k.alg, c)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwksServer serves a JWKS whose keys a test can swap, counting fetches.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys []testKey
	hits atomic.Int64
}

func newJWKS(t testing.TB, keys ...testKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		set := struct {
			Keys []map[string]string `json:"keys"`
		}{Keys: []map[string]string{}}
		for _, k := range s.keys {
			set.Keys = append(set.Keys, k.jwk())
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

// rotate replaces the published keys.
func (s *jwksServer) rotate(keys ...testKey) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}
