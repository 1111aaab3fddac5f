package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/ehigate/ehigate/decision/policy/render"
)

// PolicyList is the answer of GET /api/policies.
type PolicyList struct {
	// PolicySet is the hash of the set in force (empty when none is).
	PolicySet      string `json:"policy_set,omitempty"`
	CatalogVersion string `json:"catalog_version,omitempty"`
	// Policies are the policies in force, in load order.
	Policies []PolicySummary `json:"policies"`
	// Retired are policies once in force that no longer are.
	Retired []PolicySummary `json:"retired"`
	// Sets are the policy sets that took effect, oldest first.
	Sets []PolicySetChange `json:"sets"`
}

// PolicySummary describes one policy and its versions.
type PolicySummary struct {
	ID          string     `json:"id"`
	Version     string     `json:"version"`
	SHA256      string     `json:"sha256,omitempty"`
	Description string     `json:"description,omitempty"`
	Action      string     `json:"action,omitempty"`
	Exception   string     `json:"exception,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	ReviewBy    *time.Time `json:"review_by,omitempty"`
	// ReviewOverdue is set when review_by has passed.
	ReviewOverdue bool `json:"review_overdue,omitempty"`
	// File and Line locate it (policies in force only).
	File     string          `json:"file,omitempty"`
	Line     int             `json:"line,omitempty"`
	Versions []PolicyVersion `json:"versions"`
}

// PolicyVersion is one version and when it was in force.
type PolicyVersion struct {
	Version string   `json:"version"`
	SHA256  string   `json:"sha256"`
	Current bool     `json:"current,omitempty"`
	Periods []Period `json:"periods"`
	// Text is the canonical text (GET /api/policies/{id} only).
	Text json.RawMessage `json:"text,omitempty"`
}

// Period is when a version was in force; To is absent while it is.
type Period struct {
	From time.Time  `json:"from"`
	To   *time.Time `json:"to,omitempty"`
}

// PolicySetChange is one policy set taking effect.
type PolicySetChange struct {
	At             time.Time `json:"at"`
	Hash           string    `json:"hash"`
	CatalogVersion string    `json:"catalog_version,omitempty"`
	Chain          string    `json:"chain"`
	Seq            uint64    `json:"seq"`
}

func (h *Handler) policies(r *http.Request, _ *Identity) (*reply, error) {
	hist, err := render.LoadHistory(r.Context(), h.opts.Store)
	if err != nil {
		return nil, err
	}
	out := PolicyList{Policies: []PolicySummary{}, Retired: []PolicySummary{}, Sets: []PolicySetChange{}}
	now := h.opts.Clock()
	inForce := map[string]bool{}
	if set := h.opts.Policies(); set != nil {
		out.PolicySet, out.CatalogVersion = set.Hash(), set.Catalog().Version()
		for _, p := range set.Policies() {
			inForce[p.ID] = true
			s := PolicySummary{ID: p.ID, Version: p.Version, SHA256: p.SHA256(), Description: p.Description, Action: p.Action.String(),
				Exception: p.Exception, ReviewOverdue: p.ReviewOverdue(now), Versions: versions(hist, p.ID, false)}
			if d := p.Documentation; !d.DecidedAt.IsZero() {
				t := d.DecidedAt
				s.DecidedAt = &t
			}
			if d := p.Documentation; !d.ReviewBy.IsZero() {
				t := d.ReviewBy
				s.ReviewBy = &t
			}
			s.DecidedBy = p.Documentation.DecidedBy.Name
			file, line := p.Pos()
			s.File, s.Line = filepath.Base(file), line
			out.Policies = append(out.Policies, s)
		}
	}
	for _, id := range hist.IDs() {
		if inForce[id] {
			continue
		}
		vs := hist.Versions[id]
		last := vs[len(vs)-1]
		s := PolicySummary{ID: id, Version: last.Version, SHA256: last.SHA256, Versions: versions(hist, id, false)}
		if p, err := last.Policy(); err == nil && p != nil {
			s.Description, s.Action, s.Exception = p.Description, p.Action.String(), p.Exception
		}
		out.Retired = append(out.Retired, s)
	}
	for _, c := range hist.Sets {
		out.Sets = append(out.Sets, PolicySetChange{At: c.At, Hash: c.Hash, CatalogVersion: c.CatalogVersion, Chain: c.Entry.Chain, Seq: c.Entry.Seq})
	}
	return jsonReply(http.StatusOK, out, len(out.Policies)+len(out.Retired))
}

func versions(hist *render.History, id string, texts bool) []PolicyVersion {
	out := []PolicyVersion{}
	for _, v := range hist.Versions[id] {
		pv := PolicyVersion{Version: v.Version, SHA256: v.SHA256, Current: v.Current(), Periods: []Period{}}
		for _, p := range v.Periods {
			per := Period{From: p.From.UTC()}
			if !p.To.IsZero() {
				t := p.To.UTC()
				per.To = &t
			}
			pv.Periods = append(pv.Periods, per)
		}
		if texts {
			pv.Text = v.Text
		}
		out = append(out, pv)
	}
	return out
}

// PolicyDetail is the answer of GET /api/policies/{id}.
type PolicyDetail struct {
	ID string `json:"id"`
	// Current is the canonical text of the version in force (absent when
	// the policy is not in force).
	Current json.RawMessage `json:"current,omitempty"`
	// Versions are every version ever in force, with its text.
	Versions []PolicyVersion `json:"versions"`
}

func (h *Handler) policyVersions(r *http.Request, _ *Identity) (*reply, error) {
	id := r.PathValue("id")
	hist, err := render.LoadHistory(r.Context(), h.opts.Store)
	if err != nil {
		return nil, err
	}
	d := PolicyDetail{ID: id, Versions: versions(hist, id, true)}
	if set := h.opts.Policies(); set != nil {
		if p := set.Lookup(id); p != nil {
			d.Current = p.Canonical()
		}
	}
	if d.Current == nil && len(d.Versions) == 0 {
		return nil, fmt.Errorf("%w: no policy %q was ever in force", errNotFound, id)
	}
	return jsonReply(http.StatusOK, d, len(d.Versions))
}
