package export

import (
	"archive/zip"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/verify"
)

// Reason classifies a problem verification finds in a package.
type Reason string

// The reasons Verify reports.
const (
	// ReasonFormat: a file is missing its structure (not a zip, not JSON).
	ReasonFormat Reason = "format"
	// ReasonMissingFile: a file the manifest lists, or the manifest or its
	// signature, is not in the package.
	ReasonMissingFile Reason = "missing-file"
	// ReasonExtraFile: the package holds a file the manifest does not list.
	ReasonExtraFile Reason = "extra-file"
	// ReasonHash: a file's SHA-256 or size differs from the manifest's.
	ReasonHash Reason = "hash-mismatch"
	// ReasonKey: the manifest is signed with a key that is not trusted.
	ReasonKey Reason = "untrusted-key"
	// ReasonSignature: manifest.sig does not verify.
	ReasonSignature Reason = "bad-signature"
	// ReasonChain: a chain segment does not verify against the signed
	// checkpoints (an entry edited, removed, inserted or reordered).
	ReasonChain Reason = "chain"
	// ReasonRecord: a record differs from the record its entries make, or
	// its entries are not in the package.
	ReasonRecord Reason = "record"
	// ReasonAuditEvents: auditevents.json lacks a record's events or holds
	// events of no record.
	ReasonAuditEvents Reason = "auditevents"
	// ReasonPolicy: a policy text does not match its SHA-256, its
	// policy-set entry, or the records that cite it.
	ReasonPolicy Reason = "policy"
)

// Problem is one thing wrong with a package.
type Problem struct {
	File   string `json:"file,omitempty"`
	Reason Reason `json:"reason"`
	Detail string `json:"detail"`
}

// String renders a problem for people.
func (p Problem) String() string {
	if p.File == "" {
		return string(p.Reason) + ": " + p.Detail
	}
	return p.File + ": " + string(p.Reason) + ": " + p.Detail
}

// VerifyOptions say how to check a package.
type VerifyOptions struct {
	// Keys are the trusted public keys (the journal key the organisation
	// publishes). Without them the package's own public-key.pem is used,
	// which shows the package is intact but not whose it is.
	Keys []ed25519.PublicKey
	// Transition applies a transition entry to a record, as for verify.
	Transition func(*decision.Record, decision.Transition) error
}

// Result is what Verify found.
type Result struct {
	Manifest *Manifest `json:"manifest,omitempty"`
	// KeyID names the key the manifest is signed with; KeyTrusted is set
	// when it is one of VerifyOptions.Keys.
	KeyID      string `json:"key_id,omitempty"`
	KeyTrusted bool   `json:"key_trusted"`
	// Files counts the files whose hashes were checked.
	Files int `json:"files"`
	// Chains is the verification of the chain segments and records.
	Chains *verify.Report `json:"chains,omitempty"`
	// Records, AuditEvents and Policies count what was checked.
	Records     int `json:"records"`
	AuditEvents int `json:"audit_events"`
	Policies    int `json:"policies"`
	// StoreOK is the store's verification at export (verification.json).
	StoreOK  bool      `json:"store_ok"`
	Problems []Problem `json:"problems,omitempty"`
	Notes    []string  `json:"notes,omitempty"`
}

// OK reports whether the package verified.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

func (r *Result) problem(file string, reason Reason, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{File: file, Reason: reason, Detail: fmt.Sprintf(format, args...)})
}

// Verify checks a package offline: the manifest's signature and hashes,
// the chain segments against the signed checkpoints, every record
// against its entries, the AuditEvents against the records and the policy
// texts against their policy-set entries. What it finds is in the Result;
// the error is for a failure to read.
func Verify(ctx context.Context, r io.ReaderAt, size int64, opts VerifyOptions) (*Result, error) {
	res := &Result{}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		res.problem("", ReasonFormat, "not a zip archive: %v", err)
		return res, nil
	}
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			res.problem(f.Name, ReasonFormat, "the name appears twice in the archive")
		}
		files[f.Name] = f
	}
	manifest, err := readSmall(files, FileManifest, manifestMaxSize)
	if err != nil {
		res.problem(FileManifest, ReasonMissingFile, "%v", err)
		return res, nil
	}
	var man Manifest
	if err := json.Unmarshal(manifest, &man); err != nil || man.Format != Format {
		res.problem(FileManifest, ReasonFormat, "not a %s manifest", Format)
		return res, nil
	}
	res.Manifest = &man
	keys := res.signature(files, manifest, &man, opts.Keys)
	res.hashes(files, &man)

	// A file that cannot be read through is a problem of the package.
	formatted := func(err error) error {
		if errors.Is(err, ErrFormat) {
			res.problem("", ReasonFormat, "%s", strings.TrimPrefix(err.Error(), ErrFormat.Error()+": "))
			return nil
		}
		return err
	}
	src := &pkgSource{files: files}
	if err := src.open(); err != nil {
		return res, formatted(err)
	}
	res.Problems = append(res.Problems, src.problems...)
	src.problems = nil
	rep, err := verify.Run(ctx, src, verify.Options{Keys: journal.NewKeyring(keys...), Segments: true, Transition: opts.Transition})
	if err != nil {
		return res, formatted(err)
	}
	res.Chains = rep
	res.chains(rep, &man, src)
	if err := res.auditEvents(files, src); err != nil {
		return res, formatted(err)
	}
	if err := res.policies(files, src); err != nil {
		return res, formatted(err)
	}
	var v struct {
		OK bool `json:"ok"`
	}
	if err := src.json(FileVerification, &v); err != nil {
		return res, formatted(err)
	}
	res.Problems = append(res.Problems, src.problems...)
	res.StoreOK = v.OK
	if !v.OK {
		res.Notes = append(res.Notes, "at export, verification of the store found problems: see "+FileVerification)
	}
	return res, nil
}

// signature checks manifest.sig and returns the keys checkpoints are
// checked with: the trusted keys, or else the package's own.
func (res *Result) signature(files map[string]*zip.File, manifest []byte, man *Manifest, trusted []ed25519.PublicKey) []ed25519.PublicKey {
	var own []ed25519.PublicKey
	if b, err := readSmall(files, FilePublicKey, 1<<20); err == nil {
		for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
			if pub, err := journal.ParsePublicKey(pem.EncodeToMemory(blk)); err == nil {
				own = append(own, pub)
			}
		}
	}
	keys := trusted
	res.KeyTrusted = len(trusted) > 0
	if !res.KeyTrusted {
		keys = own
		res.Notes = append(res.Notes, "checked with the package's own public key: pass the organisation's published key to check whose package it is")
	}
	res.KeyID = man.KeyID
	var pub ed25519.PublicKey
	for _, k := range keys {
		if journal.KeyID(k) == man.KeyID {
			pub = k
		}
	}
	sig, err := readSmall(files, FileSignature, signatureMaxBytes)
	switch {
	case err != nil:
		res.problem(FileSignature, ReasonMissingFile, "%v", err)
	case pub == nil && res.KeyTrusted:
		res.problem(FileManifest, ReasonKey, "signed with key %s, which is not a trusted key", man.KeyID)
	case pub == nil:
		res.problem(FilePublicKey, ReasonKey, "the manifest names key %s, which the package does not hold", man.KeyID)
	default:
		if err := checkSignature(pub, manifest, sig); err != nil {
			res.problem(FileSignature, ReasonSignature, "%v", err)
		}
	}
	return keys
}

// hashes checks every file against the manifest.
func (res *Result) hashes(files map[string]*zip.File, man *Manifest) {
	listed := map[string]bool{FileManifest: true, FileSignature: true}
	for _, mf := range man.Files {
		listed[mf.Name] = true
		f, ok := files[mf.Name]
		if !ok {
			res.problem(mf.Name, ReasonMissingFile, "listed in the manifest but not in the package")
			continue
		}
		sum, n, err := hashFile(f)
		switch {
		case err != nil:
			res.problem(mf.Name, ReasonFormat, "cannot be read: %v", err)
		case sum != mf.SHA256 || n != mf.Size:
			res.problem(mf.Name, ReasonHash, "its SHA-256 does not match the manifest (the file was changed)")
		default:
			res.Files++
		}
	}
	for name := range files {
		if !listed[name] && !strings.HasSuffix(name, "/") {
			res.problem(name, ReasonExtraFile, "in the package but not in the manifest")
		}
	}
}

// WriteText writes the result for people, ending with OK or FAILED.
func (res *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	if m := res.Manifest; m != nil {
		fmt.Fprintf(&b, "package: %s, made %s", m.Format, m.CreatedAt.Format("2006-01-02T15:04:05Z07:00"))
		if m.CreatedBy != "" {
			fmt.Fprintf(&b, " by %s", m.CreatedBy)
		}
		fmt.Fprintf(&b, "; records received %s to %s\n", bound(m.Window.From), bound(m.Window.To))
		if m.Filter != (Filter{}) {
			fmt.Fprintf(&b, "filter: patient %q, requester %q, policy %q\n", m.Filter.Patient, m.Filter.Requester, m.Filter.Policy)
		}
		trust := "the package's own key"
		if res.KeyTrusted {
			trust = "a trusted key"
		}
		fmt.Fprintf(&b, "manifest: signed with key %s (%s); %d file(s) hashed\n", res.KeyID, trust, res.Files)
	}
	if res.Chains != nil {
		for _, c := range res.Chains.Chains {
			if c.Break == nil {
				fmt.Fprintf(&b, "chain %s: seq %d..%d, %d entries, %d checkpoint(s), %d segment(s): ok\n", c.Chain, c.First, c.Last, c.Entries, c.Checkpoints, len(c.Gaps)+1)
			}
		}
		fmt.Fprintf(&b, "records: %d, %d recomputed from their entries\n", res.Records, res.Chains.Records.Checked)
	}
	fmt.Fprintf(&b, "audit events: %d; policy texts: %d\n", res.AuditEvents, res.Policies)
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(&b, "PROBLEM: %s\n", p)
	}
	if res.OK() {
		b.WriteString("OK\n")
	} else {
		b.WriteString("FAILED\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func bound(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.UTC().Format(time.RFC3339)
}
