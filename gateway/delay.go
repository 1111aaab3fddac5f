package gateway

import (
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// enforce carries out what the engine's decision asks beyond allow and
// deny, before the decision is committed: the throttles' limits
// (throttle.go), an embargo's per-resource withholding (delay_embargo.go)
// and the parking of a held request (delay_hold.go).
func (x *exchange) enforce() error {
	x.throttle()
	x.embargo()
	return x.prepareHold()
}

// completeEnforcement adds to the completion what enforcement found while
// the response streamed: the release time of each resource an embargo
// withheld, the patients' Consents a redaction withheld by, and a refusal
// the upstream made on its own (refusal.go).
func (x *exchange) completeEnforcement(c *decision.Completion) {
	for i := range c.Withheld {
		w := &c.Withheld[i]
		if t, ok := x.releases[w.Type+"/"+w.ID]; ok && x.isEmbargo(w.Policy) {
			t := t.UTC()
			w.ReleaseAt = &t
		}
		if x.dec.Resolve != nil && !x.hasPolicy(w.Policy) {
			if ref, ok := x.dec.Resolve(w.Policy); ok && !slices.ContainsFunc(c.Policies, func(p decision.PolicyRef) bool { return p.ID == ref.ID }) {
				c.Policies = append(c.Policies, ref)
			}
		}
	}
	x.completeRefusal(c)
}

// hasPolicy reports whether the record already names policy id.
func (x *exchange) hasPolicy(id string) bool {
	return slices.ContainsFunc(x.rec.Policies, func(p decision.PolicyRef) bool { return p.ID == id })
}

// isEmbargo reports whether tag is the deciding embargo's policy.
func (x *exchange) isEmbargo(tag string) bool {
	r := x.dec.RedactionOf(tag)
	return r != nil && r.Embargo
}

// maxReleases bounds the release times an exchange remembers.
const maxReleases = 10000

// noteRelease remembers when an embargoed resource is released.
func (x *exchange) noteRelease(typ, id string, at time.Time) {
	if x.releases == nil {
		x.releases = make(map[string]time.Time)
	}
	if len(x.releases) < maxReleases {
		x.releases[typ+"/"+id] = at
	}
}

// releaseOf returns the release time of a withheld resource.
func (x *exchange) releaseOf(typ, id string) (time.Time, bool) {
	t, ok := x.releases[typ+"/"+id]
	return t, ok
}
