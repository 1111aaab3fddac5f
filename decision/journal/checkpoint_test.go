package journal

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

func goldenCheckpoint() store.Checkpoint {
	return store.Checkpoint{Chain: "pod-a", Seq: 42, Hash: "de3ae25dd86bfd14e80e745b83d219a0409352635b2374e2d2748eeee8a2abaf",
		At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), Sealed: true}
}

// TestCheckpointSignatureGolden pins the signed encoding (Ed25519 is
// deterministic): if it fails, existing checkpoints would no longer
// verify. Change it only with a new checkpoint domain.
func TestCheckpointSignatureGolden(t *testing.T) {
	cp := goldenCheckpoint()
	s := NewSigner(testKey)
	s.Sign(&cp)
	const wantKey = "34750f98bd59fcfc"
	const wantSig = "ArsEyH4Ul56r1btzmHcFOj5knY760vixYQGaFCuWcX4ptkjg95cYkpIrJNJ2xU6Lw5A+DgGg9z/xxZaaqrsmBg=="
	if cp.KeyID != wantKey || cp.Signature != wantSig {
		t.Fatalf("key %s sig %s\nwant key %s sig %s", cp.KeyID, cp.Signature, wantKey, wantSig)
	}
}

func TestKeyringVerify(t *testing.T) {
	other := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	keys := NewKeyring(testKey.Public().(ed25519.PublicKey))
	tests := []struct {
		name   string
		mutate func(cp *store.Checkpoint)
		want   error
	}{
		{"valid", func(*store.Checkpoint) {}, nil},
		{"seq changed", func(cp *store.Checkpoint) { cp.Seq++ }, ErrBadSignature},
		{"hash changed", func(cp *store.Checkpoint) { cp.Hash = Genesis }, ErrBadSignature},
		{"time changed", func(cp *store.Checkpoint) { cp.At = cp.At.Add(time.Microsecond) }, ErrBadSignature},
		{"seal removed", func(cp *store.Checkpoint) { cp.Sealed = false }, ErrBadSignature},
		{"chain changed", func(cp *store.Checkpoint) { cp.Chain = "pod-b" }, ErrBadSignature},
		{"not base64", func(cp *store.Checkpoint) { cp.Signature = "!!" }, ErrBadSignature},
		{"other key", func(cp *store.Checkpoint) { NewSigner(other).Sign(cp) }, ErrUnknownKey},
		{"other key claiming ours", func(cp *store.Checkpoint) {
			id := cp.KeyID
			NewSigner(other).Sign(cp)
			cp.KeyID = id
		}, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cp := goldenCheckpoint()
			NewSigner(testKey).Sign(&cp)
			tc.mutate(&cp)
			if err := keys.Verify(&cp); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}
