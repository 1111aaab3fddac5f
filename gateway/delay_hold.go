package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// A hold (a delay policy in hold form) parks the request: the decision is
// committed with the hold's status URL, the hold is stored (gateway/hold)
// and the requester gets 202 Accepted with Content-Location pointing at
// [base]/_hold/<id> and an informational notice. The hold is released at
// its time or by staff; the upstream answer fetched then is served at the
// status URL to the original requester only (delay_status.go).

// holdPath is the segment below the public base of hold status URLs.
const holdPath = "_hold/"

// staffPoll is the Retry-After told for a hold only staff release.
const staffPoll = time.Minute

// ErrHoldUnavailable is returned when a request cannot be parked or a
// hold read: no hold manager is configured, or its store failed.
var ErrHoldUnavailable = errors.New("gateway: the request could not be held")

// Reasons recorded by the holds' status URLs.
const (
	reasonHoldUnavailable = "hold-unavailable"
	reasonHoldNotFound    = "hold-not-found"
	reasonHoldGone        = "hold-gone"
	reasonNotHoldOwner    = "not-hold-owner"
	// InteractionHoldStatus is the record interaction of a request to a
	// hold's status URL.
	InteractionHoldStatus = "hold-status"
)

// enforcementFailure maps the errors of enforce to what the requester is
// told and the record says.
func enforcementFailure(err error) failure {
	if errors.Is(err, ErrHoldUnavailable) {
		return failure{http.StatusServiceUnavailable, "transient", reasonHoldUnavailable,
			"The request is to be answered later, but it could not be held now. Please retry shortly."}
	}
	return failureOf(err)
}

// parking reports whether the decision parks the request.
func (x *exchange) parking() bool {
	d := &x.dec
	return d.Action == decision.Delay && d.Delay != nil && d.Delay.Form == "hold"
}

// prepareHold readies a held request before its decision is committed:
// the hold's id, status URL and release time go into the decision, and
// the request (with its body, up to limits.inspect_body) is kept to be
// replayed at release.
func (x *exchange) prepareHold() error {
	if !x.parking() {
		return nil
	}
	if x.h.opts.Holds == nil {
		return ErrHoldUnavailable
	}
	body, err := x.heldBody()
	if err != nil {
		return err
	}
	id := ulid.MustNew(ulid.Timestamp(x.received), rand.Reader).String()
	spec := x.dec.Delay
	ref := &decision.HoldRef{ID: id, StatusURL: x.h.holdURL(id), State: decision.HoldHeld}
	h := &store.Hold{
		ID: id, Owner: OwnerKey(&x.who), Policy: spec.Policy, CreatedAt: x.received.UTC().Truncate(time.Microsecond),
		Request: store.HeldRequest{Method: x.r.Method, Path: strings.TrimPrefix(x.relURLPath(), "/"), Query: x.r.URL.RawQuery,
			Header: replayHeader(x.r.Header), Body: body},
	}
	x.dec.RetryAfter = staffPoll
	if spec.HoldFor > 0 {
		at := h.CreatedAt.Add(spec.HoldFor)
		ref.ReleaseAt, h.ReleaseAt = &at, at
		x.dec.RetryAfter = spec.HoldFor
	}
	x.dec.Hold = ref
	x.parked = h
	return nil
}

// relURLPath returns the request's escaped path below the public base.
func (x *exchange) relURLPath() string {
	rel, _ := x.h.relPath(x.r.URL.EscapedPath())
	return rel
}

// heldBody reads the request body to keep with a hold.
func (x *exchange) heldBody() ([]byte, error) {
	limit := x.h.opts.Limits.InspectBody
	if limit <= 0 {
		limit = 4 << 20
	}
	if x.body != nil {
		if x.body.size > limit {
			return nil, ErrBodyTooLarge
		}
		rc, err := x.body.reader()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, errors.Join(ErrRequestBody, err)
		}
		return b, nil
	}
	if x.r.Body == nil || x.r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(&countingReader{r: x.r.Body, limit: x.h.opts.Limits.MaxRequestBody}, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrBodyTooLarge
	}
	x.r.Body = http.NoBody
	return b, nil
}

// hopHeaders are not replayed (RFC 9110 7.6.1), nor are the headers the
// gateway sets itself and cookies.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Cookie", "Forwarded",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", HeaderDecision}

// replayHeader returns the headers to send upstream when a held request
// is released.
func replayHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, c := range h.Values("Connection") {
		for _, name := range strings.Split(c, ",") {
			out.Del(strings.TrimSpace(name))
		}
	}
	for _, k := range hopHeaders {
		out.Del(k)
	}
	return out
}

// holdURL returns the status URL of hold id.
func (h *Handler) holdURL(id string) string {
	return baseString(h.opts.PublicBase) + "/" + holdPath + id
}

// park stores the hold of a committed delay decision and answers 202.
func (x *exchange) park() {
	h := x.parked
	h.RecordID = x.id
	h.Decision = store.HoldDecision{Policies: x.dec.Policies, PolicySet: x.dec.PolicySet, Exception: x.dec.Exception, Notice: x.dec.Notice}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(x.r.Context()), 10*time.Second)
	defer cancel()
	if err := x.h.opts.Holds.Park(ctx, h, &x.rec); err != nil {
		x.h.log.ErrorContext(x.r.Context(), "request not held", "decision", x.id, "err", err)
		f := enforcementFailure(ErrHoldUnavailable)
		x.failure = &f
		x.writeFailure(f)
		return
	}
	x.writeHeld(x.dec)
}

// writeHeld answers 202 Accepted for a parked (or still pending) hold.
func (x *exchange) writeHeld(d decision.Decision) {
	hdr := x.w.Header()
	hdr.Set("Content-Location", d.Hold.StatusURL)
	hdr.Set("Retry-After", strconv.Itoa(seconds(d.RetryAfter)))
	HoldNotice(x.id, d).Write(x.w, http.StatusAccepted)
}

// seconds rounds a wait up to whole seconds, at least one.
func seconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}
