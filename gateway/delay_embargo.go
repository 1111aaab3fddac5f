package gateway

import (
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// An embargo (a delay policy in embargo form) lets the request go on and
// withholds, through the redaction path, each resource the policy matches
// until its release time (release_after past its date element): the
// Bundle's disclosure entry tells the earliest release time, the record's
// withheld entries carry each resource's, and the same request made after
// that time returns it. The record's action is delay.

// embargo puts the deciding embargo in force.
func (x *exchange) embargo() {
	d := &x.dec
	if d.Action != decision.Delay || d.Delay == nil || d.Delay.Form != "embargo" || d.Delay.Embargoed == nil {
		return
	}
	spec := d.Delay
	d.Redactions = append(d.Redactions, decision.Redaction{Policy: spec.Policy, Exception: spec.Exception,
		Notice: spec.Notice, Disclose: true, Embargo: true})
	d.Disclose = true
	inner := d.Withhold
	// limitToGrant applies SMART scopes to allowed and redacted requests
	// only: under an embargo the grant is applied here, first.
	g := x.grant
	clock := x.h.clock
	d.Withhold = func(r *fhir.Resource) (bool, string) {
		if g != nil {
			if reason := g.Check(r); reason != "" {
				x.scopeReason = string(reason)
				return true, ScopePolicy
			}
		}
		if inner != nil {
			if w, tag := inner(r); w {
				return true, tag
			}
		}
		until, held := spec.Embargoed(r, clock())
		if !held {
			return false, ""
		}
		x.noteRelease(r.Type, r.ID, until)
		return true, spec.Policy
	}
}

// embargoed reports whether the decision is an embargo (the request goes
// on, its response is filtered).
func (x *exchange) embargoed() bool {
	d := &x.dec
	return d.Action == decision.Delay && d.Delay != nil && d.Delay.Form == "embargo"
}
