package export

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/policy/render"
)

// policyFile is the content of policies/<id>@<version>.json.
type policyFile struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	// InForce are the periods the version was in force (a zero to: it
	// still is).
	InForce []period `json:"in_force"`
	// Entry is the policy-set journal entry that holds the text.
	Entry *decision.EntryRef `json:"entry,omitempty"`
	// Text is the canonical text the SHA-256 is computed over.
	Text json.RawMessage `json:"text"`
}

type period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to,omitzero"`
}

// policies reads the policy history and returns the versions in force in
// the window; the policy-set entries that record them are needed.
func (x *exporter) policies() ([]*render.Version, error) {
	h, err := render.LoadHistory(x.ctx, x.st)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	x.history = h
	from, to := x.man.Window.From, x.man.Window.To
	vers := h.InForce(from, to)
	need := func(ref decision.EntryRef) {
		if head, ok := x.heads[ref.Chain]; ok && ref.Seq > 0 && ref.Seq <= head.Seq {
			x.needs.add(ref.Chain, ref.Seq)
		}
	}
	for _, v := range vers {
		need(v.TextEntry)
	}
	// The set changes in force in the window: the last before it and
	// every one within it.
	for i, s := range h.Sets {
		inWindow := !s.At.Before(from) && s.At.Before(to)
		lastBefore := s.At.Before(from) && (i+1 == len(h.Sets) || !h.Sets[i+1].At.Before(from))
		if inWindow || lastBefore {
			need(s.Entry)
		}
	}
	return vers, nil
}

// writeVersions writes policies/<id>@<version>.json for each version.
func (x *exporter) writeVersions(vers []*render.Version) error {
	names := map[string]bool{}
	for _, v := range vers {
		if v.Text == nil {
			continue
		}
		name := PoliciesDir + safeName(v.ID) + "@" + safeName(v.Version)
		if names[name] {
			name += "-" + short(v.SHA256)
		}
		names[name] = true
		pf := policyFile{ID: v.ID, Version: v.Version, SHA256: v.SHA256, Text: v.Text}
		if v.TextEntry.Seq > 0 {
			ref := v.TextEntry
			pf.Entry = &ref
		}
		for _, p := range v.Periods {
			pf.InForce = append(pf.InForce, period{From: p.From.UTC(), To: p.To.UTC()})
		}
		if err := x.writeJSONAs(name+policyFileSuffix, pf, false); err != nil {
			return err
		}
		x.man.Policies++
	}
	return nil
}

// writeWritten writes the written policy of the versions in force.
func (x *exporter) writeWritten(vers []*render.Version) error {
	in := render.Input{
		Scope: fmt.Sprintf("The policies in force between %s and %s, as recorded in the journal (audit package of %s).",
			x.man.Window.From.Truncate(time.Second).Format(time.RFC3339), x.man.Window.To.Truncate(time.Second).Format(time.RFC3339), x.man.CreatedAt.Format("2006-01-02")),
		History: x.history, Catalog: x.opts.Catalog, AsOf: x.man.Window.To,
	}
	if x.man.CreatedAt.Before(in.AsOf) {
		in.AsOf = x.man.CreatedAt
	}
	for _, v := range vers {
		p, err := v.Policy()
		if err != nil {
			return err
		}
		if p != nil {
			in.Policies = append(in.Policies, render.Item{Policy: p, SHA256: v.SHA256})
		}
	}
	f, err := x.zw.create(FileWrittenHTML)
	if err != nil {
		return err
	}
	if err := render.HTML(f, in); err != nil {
		return err
	}
	if f, err = x.zw.create(FileWrittenMD); err != nil {
		return err
	}
	return render.Markdown(f, in)
}

// writeCatalog writes the exception catalog as JSON, keys as in its
// YAML source.
func (x *exporter) writeCatalog() error {
	var doc any
	if err := yaml.Unmarshal(exceptions.Source(), &doc); err != nil {
		return fmt.Errorf("export: catalog: %w", err)
	}
	return x.writeJSON(FileCatalog, doc)
}

// writePublicKey writes the signing key's public key and any older
// checkpoint keys, as PEM.
func (x *exporter) writePublicKey() error {
	f, err := x.zw.create(FilePublicKey)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, pub := range append([]ed25519.PublicKey{x.opts.Key.Public().(ed25519.PublicKey)}, x.opts.PublicKeys...) {
		p, err := journal.EncodePublicKey(pub)
		if err != nil {
			return err
		}
		b.Write(p)
	}
	_, err = f.Write(b.Bytes())
	return err
}

// safeName keeps a file name to letters, digits and -._ (others as %XX).
func safeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || (c == '.' && i > 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// textSHA256 is the hex SHA-256 of a policy text.
func textSHA256(text []byte) string {
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:])
}
