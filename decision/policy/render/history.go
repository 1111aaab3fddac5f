package render

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy"
)

// EntrySource reads a record's journal entries (a store.Store is one).
type EntrySource interface {
	RecordEntries(ctx context.Context, id string) ([]decision.Entry, error)
}

// History is when each policy version was in force, from the journal.
type History struct {
	// Versions holds, by policy id, every version ever in force, in the
	// order they first took effect.
	Versions map[string][]*Version
	// Sets are the policy sets that took effect, oldest first.
	Sets []SetChange
}

// SetChange is one policy set taking effect (a policy-set pointer entry).
type SetChange struct {
	At             time.Time
	Hash           string
	CatalogVersion string
	// Entry locates the journal entry that records it.
	Entry decision.EntryRef
}

// Version is one version of a policy and the periods it was in force.
type Version struct {
	ID, Version, SHA256 string
	// Periods are when it was in force; the last has a zero To while it
	// still is.
	Periods []Period
	// Text is its canonical text, from the policy-set entry of the first
	// set that had it (nil when that entry is missing).
	Text json.RawMessage
	// TextEntry locates that policy-set entry.
	TextEntry decision.EntryRef
}

// Period is a time range [From, To); a zero To is open.
type Period struct {
	From, To time.Time
}

// InForce reports whether the version was in force at some time in
// [from, to) (zero bounds are open).
func (v *Version) InForce(from, to time.Time) bool {
	for _, p := range v.Periods {
		if (to.IsZero() || p.From.Before(to)) && (p.To.IsZero() || from.IsZero() || p.To.After(from)) {
			return true
		}
	}
	return false
}

// Current reports whether the version is in force in the latest set.
func (v *Version) Current() bool {
	return len(v.Periods) > 0 && v.Periods[len(v.Periods)-1].To.IsZero()
}

// Policy decodes the version's canonical text (nil when it has none).
func (v *Version) Policy() (*policy.Policy, error) {
	if len(v.Text) == 0 {
		return nil, nil
	}
	var p policy.Policy
	if err := json.Unmarshal(v.Text, &p); err != nil {
		return nil, fmt.Errorf("render: policy %s@%s: %w", v.ID, v.Version, err)
	}
	return &p, nil
}

// LoadHistory reads the history of every policy from the policy-set
// entries of the journal: the pointer entries (policy.LatestRecordID)
// give when each set took effect, and each set's own entry
// (policy.RecordID) the texts.
func LoadHistory(ctx context.Context, src EntrySource) (*History, error) {
	ptrs, err := src.RecordEntries(ctx, policy.LatestRecordID)
	if err != nil {
		return nil, fmt.Errorf("render: policy history: %w", err)
	}
	type change struct {
		set decision.PolicySet
		ref decision.EntryRef
	}
	changes := make([]change, 0, len(ptrs))
	for _, e := range ptrs {
		var ps decision.PolicySet
		if err := json.Unmarshal(e.Payload, &ps); err != nil {
			return nil, fmt.Errorf("render: policy set entry %s/%d: %w", e.Chain, e.Seq, err)
		}
		changes = append(changes, change{ps, decision.EntryRef{Kind: e.Kind, Chain: e.Chain, Seq: e.Seq, At: e.At}})
	}
	// Entries of several chains (replicas) interleave by time.
	slices.SortStableFunc(changes, func(a, b change) int { return cmp.Compare(a.ref.At.UnixMicro(), b.ref.At.UnixMicro()) })
	h := &History{Versions: map[string][]*Version{}}
	open := map[string]*Version{} // by id: the version in force
	texts := map[string]bool{}    // set hashes whose texts were read
	for _, c := range changes {
		at := c.set.At
		if at.IsZero() {
			at = c.ref.At
		}
		h.Sets = append(h.Sets, SetChange{At: at, Hash: c.set.Hash, CatalogVersion: c.set.CatalogVersion, Entry: c.ref})
		inSet := map[string]bool{}
		for _, r := range c.set.Policies {
			inSet[r.ID] = true
			if v := open[r.ID]; v != nil && v.Version == r.Version && v.SHA256 == r.SHA256 {
				continue
			}
			if v := open[r.ID]; v != nil {
				v.Periods[len(v.Periods)-1].To = at
			}
			v := h.version(r)
			v.Periods = append(v.Periods, Period{From: at})
			open[r.ID] = v
		}
		for id, v := range open {
			if !inSet[id] {
				v.Periods[len(v.Periods)-1].To = at
				delete(open, id)
			}
		}
		if !texts[c.set.Hash] {
			texts[c.set.Hash] = true
			if err := h.readTexts(ctx, src, c.set.Hash); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// version returns the Version of ref, adding it the first time.
func (h *History) version(r decision.PolicyRef) *Version {
	for _, v := range h.Versions[r.ID] {
		if v.Version == r.Version && v.SHA256 == r.SHA256 {
			return v
		}
	}
	v := &Version{ID: r.ID, Version: r.Version, SHA256: r.SHA256}
	h.Versions[r.ID] = append(h.Versions[r.ID], v)
	return v
}

// readTexts fills in the texts of the versions a set holds.
func (h *History) readTexts(ctx context.Context, src EntrySource, hash string) error {
	es, err := src.RecordEntries(ctx, policy.RecordID(hash))
	if err != nil {
		return fmt.Errorf("render: policy set %.12s: %w", hash, err)
	}
	for _, e := range es {
		var ps decision.PolicySet
		if json.Unmarshal(e.Payload, &ps) != nil {
			continue
		}
		for _, t := range ps.Texts {
			for _, v := range h.Versions[t.ID] {
				if v.Version == t.Version && v.SHA256 == t.SHA256 && v.Text == nil {
					text, err := Canonical(t.Text)
					if err != nil {
						return fmt.Errorf("render: policy %s@%s in %s/%d: %w", t.ID, t.Version, e.Chain, e.Seq, err)
					}
					v.Text = text
					v.TextEntry = decision.EntryRef{Kind: e.Kind, Chain: e.Chain, Seq: e.Seq, At: e.At}
				}
			}
		}
	}
	return nil
}

// Canonical returns a policy text in the canonical form its SHA-256
// covers: keys sorted, no insignificant whitespace, numbers as written,
// and <, > and & unescaped (the journal's JSON encoding escapes them in
// the texts it embeds).
func Canonical(text []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// IDs returns the policy ids of the history, sorted.
func (h *History) IDs() []string {
	ids := make([]string, 0, len(h.Versions))
	for id := range h.Versions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// InForce returns the versions in force at some time in [from, to),
// ordered by policy id, then by when they first took effect.
func (h *History) InForce(from, to time.Time) []*Version {
	var out []*Version
	for _, id := range h.IDs() {
		for _, v := range h.Versions[id] {
			if v.InForce(from, to) {
				out = append(out, v)
			}
		}
	}
	return out
}
