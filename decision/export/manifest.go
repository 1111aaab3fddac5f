package export

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// Format names the package layout; it changes when the layout does.
const Format = "ehigate-audit-package-v1"

// The files of a package.
const (
	FileRecords       = "records.ndjson"
	FileEntries       = "entries.ndjson"
	FileAuditEvents   = "auditevents.json"
	FileCheckpoints   = "checkpoints.json"
	FileCatalog       = "catalog.json"
	FilePublicKey     = "public-key.pem"
	FileVerification  = "verification.json"
	FileWrittenHTML   = "written-policy.html"
	FileWrittenMD     = "written-policy.md"
	FileReport        = "report.html"
	FileManifest      = "manifest.json"
	FileSignature     = "manifest.sig"
	PoliciesDir       = "policies/"
	policyFileSuffix  = ".json"
	manifestMaxSize   = 64 << 20
	signatureMaxBytes = 1 << 10
)

// Manifest describes a package and the SHA-256 of every other file.
type Manifest struct {
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	// Window is the time range of the records (received_at in [from, to)).
	Window Window `json:"window"`
	Filter Filter `json:"filter,omitzero"`
	// Counts of what the package holds.
	Records     int `json:"records"`
	AuditEvents int `json:"audit_events"`
	Entries     int `json:"entries"`
	Policies    int `json:"policies"`
	// Segments are the ranges of each chain in entries.ndjson.
	Segments []Segment `json:"segments"`
	// CatalogVersion is the version of catalog.json.
	CatalogVersion string `json:"catalog_version,omitempty"`
	// KeyID names the key manifest.sig is made with.
	KeyID string `json:"key_id"`
	Files []File `json:"files"`
}

// Window is a time range; a zero bound is open.
type Window struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// Filter narrows the records of a package.
type Filter struct {
	Patient   string `json:"patient,omitempty"`
	Requester string `json:"requester,omitempty"`
	Policy    string `json:"policy,omitempty"`
}

// File is one file of the package with its SHA-256 (hex) and size.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Segment is a contiguous range of a chain in entries.ndjson: entries
// From..To, following the signed checkpoint at From-1 (none when From is
// 1) and, unless it is the chain's unsigned tail, ending at one.
type Segment struct {
	Chain string `json:"chain"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
	// Signed is set when a checkpoint covers To.
	Signed bool `json:"signed"`
}

// checkpointsFile is the content of checkpoints.json.
type checkpointsFile struct {
	// Heads are the chain heads when the export began; nothing after
	// them is in the package.
	Heads       []Head             `json:"heads"`
	Checkpoints []store.Checkpoint `json:"checkpoints"`
}

// Head is a chain's head.
type Head struct {
	Chain string `json:"chain"`
	Seq   uint64 `json:"seq"`
	Hash  string `json:"hash"`
}

// signManifest returns manifest.sig: the base64 Ed25519 signature of the
// manifest bytes, and a newline.
func signManifest(key ed25519.PrivateKey, manifest []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(key, manifest)) + "\n")
}

// errBadSignature: manifest.sig does not verify.
var errBadSignature = errors.New("export: the manifest signature does not verify")

// checkSignature verifies manifest.sig with pub.
func checkSignature(pub ed25519.PublicKey, manifest, sig []byte) error {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sig)))
	if err != nil || len(raw) != ed25519.SignatureSize {
		return fmt.Errorf("%w: not a base64 Ed25519 signature", errBadSignature)
	}
	if !ed25519.Verify(pub, manifest, raw) {
		return errBadSignature
	}
	return nil
}
