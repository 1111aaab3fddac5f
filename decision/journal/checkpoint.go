package journal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ehigate/ehigate/decision/store"
)

// checkpointDomain separates checkpoint signatures from any other use of
// the key; it changes whenever the signed encoding changes.
const checkpointDomain = "ehigate-checkpoint-v1"

// Errors of checkpoint verification, matched with errors.Is.
var (
	// ErrBadSignature: the signature does not verify with the named key.
	ErrBadSignature = errors.New("journal: checkpoint signature does not verify")
	// ErrUnknownKey: the checkpoint names a key that is not trusted.
	ErrUnknownKey = errors.New("journal: checkpoint signed by an unknown key")
)

// Signer signs checkpoints with an Ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID returns the signer's key id.
func (s *Signer) KeyID() string { return s.id }

// Public returns the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign fills cp.KeyID and cp.Signature.
func (s *Signer) Sign(cp *store.Checkpoint) {
	cp.KeyID = s.id
	cp.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, CheckpointMessage(cp)))
}

// KeyID names a public key: hex of the first 8 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// CheckpointMessage is the byte-stable encoding a checkpoint signature
// covers: a length-prefixed encoding of the domain, chain, sequence
// number, hash, time (Unix microseconds) and sealed flag. It is
// golden-tested; changing it is a schema change.
func CheckpointMessage(cp *store.Checkpoint) []byte {
	var b bytes.Buffer
	b.Grow(64 + len(cp.Chain) + len(cp.Hash))
	put := func(v uint64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], v)
		b.Write(n[:])
	}
	str := func(s string) { put(uint64(len(s))); b.WriteString(s) }
	str(checkpointDomain)
	str(cp.Chain)
	put(cp.Seq)
	str(cp.Hash)
	put(uint64(cp.At.UnixMicro()))
	if cp.Sealed {
		b.WriteByte(1)
	} else {
		b.WriteByte(0)
	}
	return b.Bytes()
}

// Keyring is the set of public keys checkpoints are verified with.
type Keyring map[string]ed25519.PublicKey

// NewKeyring returns a keyring trusting keys.
func NewKeyring(keys ...ed25519.PublicKey) Keyring {
	k := make(Keyring, len(keys))
	for _, pub := range keys {
		k[KeyID(pub)] = pub
	}
	return k
}

// Verify checks a checkpoint's signature; the error matches
// ErrUnknownKey or ErrBadSignature.
func (k Keyring) Verify(cp *store.Checkpoint) error {
	pub, ok := k[cp.KeyID]
	if !ok {
		return fmt.Errorf("%w (key id %q)", ErrUnknownKey, cp.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(cp.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, CheckpointMessage(cp), sig) {
		return ErrBadSignature
	}
	return nil
}
