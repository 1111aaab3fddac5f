package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/gateway/hold"
)

// A hold's status URL, [base]/_hold/<id>, is routed before classification
// and recorded as a request of its own (interaction hold-status):
//
//   - another requester than the one whose request was held is refused
//     (403, action deny, reason not-hold-owner);
//   - while the hold waits, 202 with Retry-After and the hold's notice
//     (action delay, under the hold's policies);
//   - once released, the upstream answer fetched at release is served
//     through the same response chain as a live answer, under the policies
//     in force now as if the request had not been held (a later denial
//     stands; redactions and scopes apply); the hold is then fulfilled;
//   - an unknown id is answered 404, a collected or expired hold 410.

// holdStatusID returns the hold id of a path below the public base.
func holdStatusID(rel string) (string, bool) {
	return strings.CutPrefix(rel, holdPath)
}

// validHoldID reports whether id looks like a hold id (a ULID).
func validHoldID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// serveHold answers a request to a hold's status URL.
func (x *exchange) serveHold(id string) {
	m := x.h.opts.Holds
	if m == nil || !validHoldID(id) {
		x.rejectHold(failure{http.StatusNotFound, "not-found", reasonHoldNotFound, "There is no held request at this address."})
		return
	}
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		x.rejectHold(failure{http.StatusMethodNotAllowed, "not-supported", "method-not-allowed", "A held request's status is read with GET."})
		return
	}
	h, err := m.Get(x.r.Context(), id, OwnerKey(&x.who))
	switch {
	case errors.Is(err, store.ErrNotFound):
		x.rejectHold(failure{http.StatusNotFound, "not-found", reasonHoldNotFound, "There is no held request at this address."})
		return
	case errors.Is(err, hold.ErrNotOwner):
		x.dec = decision.Decision{Action: decision.Deny, Reason: reasonNotHoldOwner, Disclose: true,
			Notice: decision.Notice{Message: "This status address belongs to a request someone else made", Status: http.StatusForbidden,
				NextStep: "Use the status address given in answer to your own request, with your own access token"}}
		x.buildHoldRecord(&h, id)
		if err := x.commit(); err != nil {
			x.respondFailure(err)
			return
		}
		x.notice()
		return
	case err != nil:
		x.h.log.ErrorContext(x.r.Context(), "hold not read", "decision", x.id, "err", err)
		x.rejectHold(enforcementFailure(ErrHoldUnavailable))
		return
	}
	switch h.State {
	case store.HoldHeld, store.HoldReleased:
		x.holdPending(&h)
	case store.HoldReady:
		x.collect(m, &h)
	default:
		x.rejectHold(failure{http.StatusGone, "not-found", reasonHoldGone,
			"The answer to this held request is no longer kept: it was collected, or not collected in time."})
	}
}

// rejectHold records and answers a status request that names no hold the
// requester can read.
func (x *exchange) rejectHold(f failure) {
	x.failure = &f
	x.buildRecord(decision.Error)
	x.rec.Reason = f.reason
	x.rec.Interaction = InteractionHoldStatus
	if err := x.commit(); err != nil {
		x.h.log.ErrorContext(x.r.Context(), "error decision not recorded", "decision", x.id, "reason", f.reason, "err", err)
	}
	x.writeFailure(f)
}

// buildHoldRecord builds the record of a status request about hold h.
func (x *exchange) buildHoldRecord(h *store.Hold, id string) {
	x.buildRecord(x.dec.Action)
	x.rec.Interaction = InteractionHoldStatus
	ref := &decision.HoldRef{ID: id, StatusURL: x.h.holdURL(id)}
	if x.dec.Hold != nil {
		ref = x.dec.Hold
	}
	x.rec.Hold = ref
}

// holdPending tells the requester the hold still waits.
func (x *exchange) holdPending(h *store.Hold) {
	ref := &decision.HoldRef{ID: h.ID, StatusURL: x.h.holdURL(h.ID), State: decision.HoldHeld}
	retry := staffPoll
	if !h.ReleaseAt.IsZero() {
		at := h.ReleaseAt
		ref.ReleaseAt = &at
		retry = max(at.Sub(x.h.clock()), time.Second)
	}
	if h.State == store.HoldReleased {
		ref.State, retry = decision.HoldReleased, 5*time.Second
	}
	x.dec = decision.Decision{Action: decision.Delay, Policies: h.Decision.Policies, PolicySet: h.Decision.PolicySet,
		Exception: h.Decision.Exception, Notice: h.Decision.Notice, Hold: ref, RetryAfter: retry, Disclose: true}
	x.buildHoldRecord(h, h.ID)
	if err := x.commit(); err != nil {
		x.respondFailure(err)
		return
	}
	x.writeHeld(x.dec)
}

// collect serves a released hold's answer to its requester.
func (x *exchange) collect(m *hold.Manager, h *store.Hold) {
	req, err := x.h.classifier.Classify(h.Request.Method, h.Request.Path, h.Request.Query, h.Request.Header)
	if err == nil && req.NeedsBody {
		err = x.h.classifier.ClassifyBody(req, h.Request.Header.Get("Content-Type"), strings.NewReader(string(h.Request.Body)))
	}
	if err != nil {
		x.h.log.ErrorContext(x.r.Context(), "held request does not classify", "decision", x.id, "hold", h.ID, "err", err)
		x.rejectHold(failureOf(ErrInternal))
		return
	}
	x.req = req
	if denial, denied := x.authorize(); denied {
		x.dec = denial
	} else {
		x.dec = x.h.decide(x.r.Context(), x)
		x.releasedHold()
		x.embargo()
		x.limitToGrant()
	}
	x.buildHoldRecord(h, h.ID)
	if err := x.commit(); err != nil {
		x.respondFailure(err)
		return
	}
	switch x.dec.Action {
	case decision.Allow, decision.Redact, decision.Delay:
	default:
		x.notice()
		return
	}
	x.replay = h.Response
	x.respond()
	if x.r.Method != http.MethodGet || x.failure != nil || x.upstreamErr || x.w.writeErr != nil || x.unfiltered != "" || x.w.status == 0 {
		return // not delivered whole: the requester may ask again
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(x.r.Context()), 10*time.Second)
	defer cancel()
	if err := m.Collected(ctx, h); err != nil {
		x.h.log.WarnContext(x.r.Context(), "hold not marked collected", "decision", x.id, "hold", h.ID, "err", err)
	}
}

// releasedHold makes a decision about a released request carry out
// everything but the hold itself (which is satisfied) and throttles (the
// answer was fetched already).
func (x *exchange) releasedHold() {
	d := &x.dec
	d.Limits, d.Limit = nil, nil
	if d.Action == decision.Throttle || x.parking() {
		d.Action, d.Exception, d.Notice, d.Delay, d.RetryAfter = decision.Allow, nil, decision.Notice{}, nil, 0
		if len(d.Redactions) > 0 {
			r := &d.Redactions[0]
			d.Action, d.Exception, d.Notice = decision.Redact, r.Exception, r.Notice
		}
	}
}
