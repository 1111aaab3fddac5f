package engine

import (
	"net/http"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/consent"
	"github.com/ehigate/ehigate/fhir"
)

// SwapConsents makes cs the patients' Consents in force for decisions
// that start afterwards (nil: none).
func (e *Engine) SwapConsents(cs *consent.Set) { e.consents.Store(cs) }

// Consents returns the Consents in force (nil when none were swapped in).
func (e *Engine) Consents() *consent.Set { return e.consents.Load() }

// applyConsents adds the patients' requests not to share to a decision: a
// denial when every patient the request names has a Consent denying the
// requester everything, otherwise, when some Consent may deny the
// requester something, a redaction checking each resource against the
// Consents of its patients. A denial by policy stands as it is.
func (e *Engine) applyConsents(d *decision.Decision, st *state, cs *consent.Set, req *fhir.Request, who *decision.Requester, at time.Time) {
	if d.Action == decision.Deny || !cs.MayDeny(who) {
		return
	}
	var exc *decision.ExceptionRef
	if entry, err := st.set.Catalog().Lookup(consent.Exception); err == nil {
		exc = st.set.Catalog().Ref(entry)
	}
	write := isWrite(req)
	notice := cs.Notice()
	if notice.Status == 0 {
		notice.Status = http.StatusForbidden
	}
	if len(req.Patients) > 0 {
		var denying []*consent.Consent
		for _, p := range req.Patients {
			c := cs.DeniesAll(p, who, at, write)
			if c == nil {
				denying = nil
				break
			}
			denying = append(denying, c)
		}
		if denying != nil {
			d.Action, d.Exception, d.Notice = decision.Deny, exc, notice
			d.Duty, d.Limit, d.Limits, d.Delay = nil, nil, nil, nil
			d.Withhold, d.Redactions, d.Disclose = nil, nil, true
			for _, c := range denying {
				d.Policies = append(d.Policies, c.PolicyRef(decision.Deny))
			}
			return
		}
		// The Consents of the patients named are in play.
		for _, p := range req.Patients {
			for _, c := range cs.For(p) {
				if cs.InPlay(c, who) {
					d.Policies = append(d.Policies, c.PolicyRef(decision.Redact))
				}
			}
		}
	}
	if d.Action == decision.Allow {
		d.Action, d.Exception, d.Notice = decision.Redact, exc, notice
	}
	d.Redactions = append(d.Redactions, decision.Redaction{Policy: "Consent/", Prefix: true, Exception: exc, Notice: notice, Disclose: cs.Disclose()})
	d.Disclose = d.Disclose && len(d.Redactions) > 1 || cs.Disclose()
	inner := d.Withhold
	d.Withhold = func(r *fhir.Resource) (bool, string) {
		if inner != nil {
			if w, tag := inner(r); w {
				return true, tag
			}
		}
		if c := cs.Withhold(r, r.Patients(), who, at, write); c != nil {
			return true, c.Tag()
		}
		return false, ""
	}
	d.Resolve = func(tag string) (decision.PolicyRef, bool) {
		c, ok := cs.Lookup(tag)
		if !ok {
			return decision.PolicyRef{}, false
		}
		return c.PolicyRef(decision.Redact), true
	}
}

// isWrite reports whether a request writes (the Consent action correct
// rather than access).
func isWrite(req *fhir.Request) bool {
	switch req.Interaction {
	case fhir.Create, fhir.Update, fhir.Patch, fhir.Delete:
		return true
	}
	return false
}
