package store

import (
	"log/slog"
	"time"
)

// Checkpoint is a signed statement that a chain had reached seq with hash
// at a time. A writer makes one every so many entries or seconds and a
// sealed one when it shuts down gracefully; verification checks the chain
// against every checkpoint, so that rewriting or truncating what a
// checkpoint covers is detected even by someone who can recompute hashes.
type Checkpoint struct {
	Chain string    `json:"chain"`
	Seq   uint64    `json:"seq"`
	Hash  string    `json:"hash"`
	At    time.Time `json:"at"`
	// Sealed is set by a graceful shutdown: nothing follows until the
	// chain's writer starts again.
	Sealed bool `json:"sealed,omitempty"`
	// KeyID names the signing key (hex of the first 8 bytes of the SHA-256
	// of its public key).
	KeyID string `json:"key_id"`
	// Signature is the base64 Ed25519 signature over the checkpoint's
	// canonical encoding (see decision/journal).
	Signature string `json:"sig"`
}

// LogValue logs a checkpoint as a group whose keys are its JSON names, so
// that a JSON log line holds the checkpoint object as stored.
func (cp Checkpoint) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("chain", cp.Chain), slog.Uint64("seq", cp.Seq), slog.String("hash", cp.Hash),
		slog.Time("at", cp.At), slog.Bool("sealed", cp.Sealed), slog.String("key_id", cp.KeyID),
		slog.String("sig", cp.Signature))
}
