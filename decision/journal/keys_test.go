package journal

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParsePrivateKey(t *testing.T) {
	pemKey, err := EncodePrivateKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := EncodePublicKey(testKey.Public().(ed25519.PublicKey))
	seed := testKey.Seed()
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"PEM PKCS#8", pemKey, true},
		{"base64 seed", []byte(base64.StdEncoding.EncodeToString(seed) + "\n"), true},
		{"raw URL base64 seed", []byte(base64.RawURLEncoding.EncodeToString(seed)), true},
		{"public key", pub, false},
		{"short seed", []byte(base64.StdEncoding.EncodeToString(seed[:31])), false},
		{"garbage", []byte("not a key"), false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if tc.ok && !k.Equal(testKey) {
				t.Fatal("a different key was read")
			}
			if !tc.ok && !errors.Is(err, ErrKeyFormat) {
				t.Fatalf("err = %v, want ErrKeyFormat", err)
			}
		})
	}
}

func TestPublicKeyRoundTrip(t *testing.T) {
	pemPub, err := EncodePublicKey(testKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{pemPub, mustPEM(t)} {
		pub, err := ParsePublicKey(in)
		if err != nil || !pub.Equal(testKey.Public()) {
			t.Fatalf("ParsePublicKey = %v, %v", pub, err)
		}
	}
}

func mustPEM(t *testing.T) []byte {
	b, err := EncodePrivateKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteNewKeyAndLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.pem")
	k, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode().Perm(), err)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || !again.Equal(k) {
		t.Fatal("the key changed on a second load")
	}
	if _, err := WriteNewKey(path); !errors.Is(err, os.ErrExist) {
		t.Fatalf("overwrote an existing key: %v", err)
	}
}

func FuzzParseKey(f *testing.F) {
	pemKey, _ := EncodePrivateKey(testKey)
	pub, _ := EncodePublicKey(testKey.Public().(ed25519.PublicKey))
	f.Add(pemKey)
	f.Add(pub)
	f.Add([]byte(base64.StdEncoding.EncodeToString(testKey.Seed())))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParsePrivateKey(data); err == nil && len(k) != ed25519.PrivateKeySize {
			t.Fatalf("key of %d bytes", len(k))
		}
		if k, err := ParsePublicKey(data); err == nil && len(k) != ed25519.PublicKeySize {
			t.Fatalf("public key of %d bytes", len(k))
		}
	})
}
