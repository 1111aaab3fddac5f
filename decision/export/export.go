package export

import (
	"archive/zip"
	"compress/flate"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/policy/render"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir/audit"
)

// Errors matched with errors.Is.
var (
	// ErrFormat: a package file is not what its format says.
	ErrFormat = errors.New("export: malformed package")
	// ErrNoKey: no signing key was given.
	ErrNoKey = errors.New("export: a signing key is required")
)

// ReportFunc writes report.html from the package's summary.
type ReportFunc func(w io.Writer, s *Summary) error

// Options say what to export and how.
type Options struct {
	// From and To bound the records by received_at, [From, To); a zero
	// To is the time the export begins.
	From, To time.Time
	// Filter narrows the records (a patient, a requester's token subject,
	// a policy id). A filtered package keeps only the chain ranges that
	// hold its records' entries; an unfiltered one keeps every entry of
	// the window.
	Filter Filter
	// Key signs manifest.sig: the journal's signing key.
	Key ed25519.PrivateKey
	// PublicKeys are older checkpoint keys to ship beside Key's public
	// key in public-key.pem, for checkpoints made before a key rotation.
	PublicKeys []ed25519.PublicKey
	// Transition applies a transition entry to a record, as for verify.
	Transition func(*decision.Record, decision.Transition) error
	// Events makes the AuditEvents (default: audit.NewBuilder with no
	// server).
	Events *audit.Builder
	// Catalog is the exception catalog (default: the embedded one).
	Catalog *exceptions.Catalog
	// Report writes report.html (default WriteSummaryHTML).
	Report ReportFunc
	// CreatedBy names the tool and version in the manifest.
	CreatedBy string
	// TempDir holds the AuditEvent Bundle while records are written
	// (default os.TempDir()).
	TempDir string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Export writes the audit package of st for opts to w, streaming, and
// returns its manifest.
func Export(ctx context.Context, st store.Store, w io.Writer, opts Options) (*Manifest, error) {
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, ErrNoKey
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Events == nil {
		opts.Events = audit.NewBuilder(audit.Options{})
	}
	if opts.Catalog == nil {
		cat, err := exceptions.Load()
		if err != nil {
			return nil, err
		}
		opts.Catalog = cat
	}
	if opts.Report == nil {
		opts.Report = WriteSummaryHTML
	}
	now := opts.Now().UTC()
	if opts.To.IsZero() {
		opts.To = now
	}
	x := &exporter{ctx: ctx, st: st, opts: &opts, zw: newZip(w, now), needs: newNeeds()}
	x.man = &Manifest{Format: Format, CreatedAt: now, CreatedBy: opts.CreatedBy, Window: Window{From: opts.From.UTC(), To: opts.To.UTC()},
		Filter: opts.Filter, CatalogVersion: opts.Catalog.Version(), KeyID: journal.KeyID(opts.Key.Public().(ed25519.PublicKey))}
	x.sum = newSummary(x.man)
	if err := x.run(); err != nil {
		return nil, err
	}
	return x.man, nil
}

// exporter is one export in progress.
type exporter struct {
	ctx   context.Context
	st    store.Store
	opts  *Options
	zw    *zipWriter
	man   *Manifest
	sum   *Summary
	heads map[string]store.Chain
	needs *needs
	check recordCheck
	cps   []store.Checkpoint
	// history is the policy history read from the journal.
	history *render.History
}

func (x *exporter) run() error {
	chains, err := x.st.Chains(x.ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	x.heads = make(map[string]store.Chain, len(chains))
	for _, c := range chains {
		x.heads[c.Name] = c
	}
	if err := x.writeRecords(); err != nil {
		return err
	}
	vers, err := x.policies()
	if err != nil {
		return err
	}
	if x.opts.Filter == (Filter{}) {
		if err := x.windowSpans(); err != nil {
			return err
		}
	}
	if err := x.writeEntries(); err != nil {
		return err
	}
	if err := x.writeVersions(vers); err != nil {
		return err
	}
	for _, step := range []func() error{x.writeCatalog, x.writePublicKey, x.writeVerification, func() error { return x.writeWritten(vers) }, x.writeReport} {
		if err := step(); err != nil {
			return err
		}
	}
	return x.writeManifest()
}

// windowSpans adds, for a package of a whole window, every chain's
// entries written in the window.
func (x *exporter) windowSpans() error {
	for name, c := range x.heads {
		if c.Seq == 0 || c.Last.Before(x.man.Window.From) || (!c.First.IsZero() && !c.First.Before(x.man.Window.To)) {
			continue
		}
		lo, hi, ok, err := windowSpan(x.ctx, x.st, name, c.Seq, x.man.Window.From, x.man.Window.To)
		if err != nil {
			return err
		}
		if ok {
			x.needs.span(name, lo, hi)
		}
	}
	return nil
}

// writeEntries writes the chain segments that cover the needs, and
// checkpoints.json.
func (x *exporter) writeEntries() error {
	f, err := x.zw.create(FileEntries)
	if err != nil {
		return err
	}
	ew := newEntryWriter(f)
	for _, chain := range x.needs.chains() {
		head, ok := x.heads[chain]
		if !ok {
			continue
		}
		span, hasSpan := x.needs.spans[chain]
		p, err := planChain(x.ctx, x.st, chain, head.Seq, x.needs.seqs[chain], span, hasSpan)
		if err != nil {
			return err
		}
		for _, s := range p.segments {
			err := x.st.Entries(x.ctx, chain, s.From, s.To, ew.write)
			if err != nil {
				return fmt.Errorf("export: entries of %s: %w", chain, err)
			}
		}
		x.man.Segments = append(x.man.Segments, p.segments...)
		x.cps = append(x.cps, p.checkpoints...)
	}
	x.man.Entries = ew.n
	cf := checkpointsFile{Checkpoints: x.cps}
	if cf.Checkpoints == nil {
		cf.Checkpoints = []store.Checkpoint{}
	}
	for _, name := range sortedKeys(x.heads) {
		c := x.heads[name]
		cf.Heads = append(cf.Heads, Head{Chain: name, Seq: c.Seq, Hash: c.Hash})
	}
	return x.writeJSON(FileCheckpoints, cf)
}

// writeJSON writes v as an indented JSON file.
func (x *exporter) writeJSON(name string, v any) error { return x.writeJSONAs(name, v, true) }

// writeJSONAs writes v as JSON; compact output keeps embedded raw JSON
// (policy texts) byte for byte.
func (x *exporter) writeJSONAs(name string, v any, indent bool) error {
	f, err := x.zw.create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	return nil
}

func (x *exporter) writeManifest() error {
	x.man.Files = x.zw.done()
	b, err := json.MarshalIndent(x.man, "", "  ")
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	b = append(b, '\n')
	for _, f := range [...]struct {
		name string
		data []byte
	}{{FileManifest, b}, {FileSignature, signManifest(x.opts.Key, b)}} {
		w, err := x.zw.raw(f.name)
		if err != nil {
			return err
		}
		if _, err := w.Write(f.data); err != nil {
			return fmt.Errorf("export: %s: %w", f.name, err)
		}
	}
	if err := x.zw.close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// zipWriter writes the package's files, hashing each.
type zipWriter struct {
	zw    *zip.Writer
	at    time.Time
	files []File
	cur   *hashingWriter
}

func newZip(w io.Writer, at time.Time) *zipWriter {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return &zipWriter{zw: zw, at: at}
}

// create starts a file listed in the manifest.
func (z *zipWriter) create(name string) (io.Writer, error) {
	z.finish()
	w, err := z.raw(name)
	if err != nil {
		return nil, err
	}
	z.cur = &hashingWriter{w: w, h: sha256.New(), name: name}
	return z.cur, nil
}

// raw starts a file that is not hashed (the manifest and its signature).
func (z *zipWriter) raw(name string) (io.Writer, error) {
	z.finish()
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.at})
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", name, err)
	}
	return w, nil
}

func (z *zipWriter) finish() {
	if z.cur != nil {
		z.files = append(z.files, File{Name: z.cur.name, SHA256: hex.EncodeToString(z.cur.h.Sum(nil)), Size: z.cur.n})
		z.cur = nil
	}
}

// done returns the hashed files.
func (z *zipWriter) done() []File {
	z.finish()
	return z.files
}

func (z *zipWriter) close() error { return z.zw.Close() }

type hashingWriter struct {
	w    io.Writer
	h    hash.Hash
	n    int64
	name string
}

// Write writes p and adds it to the hash.
func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// tempFile makes the spill file of the AuditEvent Bundle.
func (x *exporter) tempFile() (*os.File, error) {
	f, err := os.CreateTemp(x.opts.TempDir, "ehigate-auditevents-*.json")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return f, nil
}
