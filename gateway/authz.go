package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/smart"
)

// ScopePolicy is the policy tag of the resources withheld from a response
// because no granted SMART scope releases them (Record.Withheld[].Policy).
const ScopePolicy = "smart-scope"

// ScopeOptions configure the enforcement of SMART scopes.
type ScopeOptions struct {
	// Enforce checks every request that carries a token against the scopes
	// the token grants: requests outside them are denied (403), a
	// patient-context token reaches only its patient's compartment, and
	// responses are checked resource by resource.
	Enforce bool
	// DenialException is the exception code recorded (and told) on scope
	// denials; empty for none.
	DenialException string
}

// The next steps told with scope denials.
const (
	nextOutOfScope   = "Ask the app to request access that covers this request, or contact the organisation that runs this service."
	nextWrongPatient = "Ask for the records of the patient this access was granted for, or sign in again to reach another patient's records."
)

// requireIdentity returns ErrUnauthenticated when identity is required
// and the requester was not verified, unless the request is for a public
// endpoint (capabilities, SMART configuration). req is nil when the
// request could not be classified.
func (x *exchange) requireIdentity(req *fhir.Request) error {
	if !x.h.opts.RequireIdentity || x.who.Verified {
		return nil
	}
	if req != nil && (req.Interaction == fhir.Capabilities || req.Interaction == fhir.SmartConfiguration) {
		return nil
	}
	return fmt.Errorf("%w: no access token", ErrUnauthenticated)
}

// authorize checks the classified request against the scopes the
// requester's token grants. A refusal is returned as the deny decision to
// record and answer. An allowed request may be narrowed to the launch
// patient; when its response must be checked resource by resource, the
// grant is kept for limitToGrant.
func (x *exchange) authorize() (decision.Decision, bool) {
	if !x.h.opts.Scopes.Enforce || x.who.TokenHash == "" {
		return decision.Decision{}, false // no token: identity rules apply, not scopes
	}
	g := smart.NewGrant(x.who.Scopes, x.who.Patient, x.who.FHIRUser)
	res := g.Authorize(x.req)
	if res.Allowed() && res.Filter && !res.Opaque && !checkable(x.req) {
		res = smart.Result{Reason: unreadableReason(g), Entry: -1,
			Message: "The response to this request could not be checked against the access token's scopes: ask for FHIR JSON (application/fhir+json)."}
	}
	if !res.Allowed() {
		return x.scopeDenial(res), true
	}
	if res.Narrow != "" {
		x.narrow(res.Narrow, g.Patient)
	}
	if res.Filter {
		x.grant, x.opaqueOK = g, res.Opaque
	}
	return decision.Decision{}, false
}

// checkable reports whether the response to req can be read resource by
// resource: FHIR JSON (or NDJSON) was asked for or left to the server,
// and a Binary is asked for as a FHIR resource, not in its own format.
func checkable(req *fhir.Request) bool {
	switch req.Format {
	case fhir.FormatUnspecified:
		return req.ResourceType != "Binary" || req.Interaction != fhir.Read && req.Interaction != fhir.VRead
	case fhir.FormatJSON, fhir.FormatNDJSON:
		return true
	}
	return false
}

func unreadableReason(g *smart.Grant) smart.Reason {
	if g.Patient != "" {
		return smart.ReasonWrongPatient
	}
	return smart.ReasonOutOfScope
}

// scopeDenial is the decision recorded for a request outside the grant.
func (x *exchange) scopeDenial(res smart.Result) decision.Decision {
	next := nextOutOfScope
	if res.Reason == smart.ReasonWrongPatient {
		next = nextWrongPatient
	}
	d := decision.Decision{
		Action:   decision.Deny,
		Reason:   string(res.Reason),
		Notice:   decision.Notice{Message: res.Message, NextStep: next, Status: http.StatusForbidden},
		Disclose: true,
	}
	if code := x.h.opts.Scopes.DenialException; code != "" {
		d.Exception = &decision.ExceptionRef{Code: code}
	}
	return d
}

// narrow adds the parameter that limits the request to the launch
// patient: to If-None-Exist for a conditional create, to the query string
// otherwise. The request then concerns that patient.
func (x *exchange) narrow(param, patient string) {
	if x.req.Interaction == fhir.Create {
		crit := x.r.Header.Get("If-None-Exist")
		if crit != "" {
			crit += "&"
		}
		x.r.Header.Set("If-None-Exist", crit+param)
	} else {
		u := *x.r.URL
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += param
		x.r.URL = &u
	}
	if len(x.req.Patients) == 0 {
		x.req.Patients = []string{patient}
	}
}

// limitToGrant makes the response check of the grant apply together with
// whatever the decision withholds: a resource no scope releases is
// withheld under ScopePolicy, any other is asked to the decision's own
// Withhold. Whether withholding is disclosed stays the decision's rule.
func (x *exchange) limitToGrant() {
	g := x.grant
	if g == nil || (x.dec.Action != decision.Allow && x.dec.Action != decision.Redact) {
		return
	}
	inner := x.dec.Withhold
	x.dec.Withhold = func(r *fhir.Resource) (bool, string) {
		if reason := g.Check(r); reason != "" {
			x.scopeReason = string(reason)
			return true, ScopePolicy
		}
		if inner != nil {
			return inner(r)
		}
		return false, ""
	}
}

// releasable reports whether a response about to start may be released:
// without a grant to check it against, always; with one, anything but a
// success, FHIR JSON or NDJSON in an encoding the gateway reads, or an
// opaque body the grant allows.
func (x *exchange) releasable(status int, h http.Header) bool {
	if x.grant == nil || status < 200 || status > 299 || x.opaqueOK {
		return true
	}
	if enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); enc != "" && enc != "identity" && enc != "gzip" {
		return false
	}
	k := kindOf(h.Get("Content-Type"))
	return k == bodyJSON || k == bodyNDJSON
}

// refuseUnchecked answers a success the gateway could not check.
func (x *exchange) refuseUnchecked() {
	reason := string(unreadableReason(x.grant))
	x.authzReason = reason
	d := x.scopeDenial(smart.Result{Reason: smart.Reason(reason),
		Message: "The response could not be checked against the access token's scopes, so it was not released."})
	x.writeNotice(Notice(x.id, d), http.StatusForbidden)
}

// smartConfiguration serves the configured SMART configuration document.
func (x *exchange) smartConfiguration() {
	b := x.h.opts.SmartConfiguration
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "max-age=300")
	x.w.WriteHeader(http.StatusOK)
	if x.r.Method != http.MethodHead {
		x.w.Write(b)
	}
}
