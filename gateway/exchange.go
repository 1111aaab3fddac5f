package gateway

import (
	"go.opentelemetry.io/otel/trace"

	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/outcome"
	"github.com/ehigate/ehigate/fhir/smart"
	"github.com/ehigate/ehigate/fhir/stream"
)

// maxRecordedPath bounds the path kept in a record.
const maxRecordedPath = 2048

// exchange is the state of one request as it moves through the pipeline.
type exchange struct {
	h        *Handler
	r        *http.Request
	w        *responseWriter
	id       string
	received time.Time

	who  decision.Requester
	req  *fhir.Request
	body *requestBody
	dec  decision.Decision
	rec  decision.Record

	span trace.Span // the request's span

	recorded       bool // the decision entry is durable
	upstreamStatus int
	filter         *stream.Filter
	flags          []decision.Flag
	failure        *failure
	upstreamErr    bool

	// SMART authorization (authz.go): the grant the response is checked
	// against, whether an unreadable response may pass, why the last
	// resource was withheld by scope, and the reason a whole response was.
	grant       *smart.Grant
	opaqueOK    bool
	scopeReason string
	authzReason string

	// Checked responses (held.go): the status line held back while the
	// response is checked, and why a response could not be filtered.
	held       *heldWriter
	unfiltered string

	// Delays and refusals (delay*.go, refusal.go): the hold being parked,
	// the kept answer of a released hold being collected, the release
	// times of embargoed resources, and a refusal the upstream made.
	parked   *store.Hold
	replay   *store.HeldResponse
	releases map[string]time.Time
	refusal  *refusal
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

func (x *exchange) serve() {
	// Identity first: a token over its own limit is refused as such (401)
	// before the header limit would answer 431.
	endIdentify := x.stage("identify")
	err := x.h.identify(x)
	endIdentify()
	if err != nil {
		x.reject(err)
		return
	}
	if err := x.checkRequest(); err != nil {
		x.reject(err)
		return
	}
	rel, ok := x.h.relPath(x.r.URL.EscapedPath())
	if !ok {
		x.reject(ErrOutsideBase)
		return
	}
	if id, ok := holdStatusID(rel); ok {
		x.serveHold(id)
		return
	}
	endClassify := x.stage("classify")
	req, err := x.h.classifier.Classify(x.r.Method, rel, x.r.URL.RawQuery, x.r.Header)
	if ierr := x.requireIdentity(req); ierr != nil {
		err = ierr
	}
	if err == nil {
		x.req = req
		err = x.readBody()
	}
	endClassify()
	if err != nil {
		x.reject(err)
		return
	}
	endDecide := x.stage("decide")
	if denial, denied := x.authorize(); denied {
		x.dec = denial
	} else {
		start := time.Now()
		x.dec = x.h.decide(x.r.Context(), x)
		x.timeDecision(start)
		if err := x.enforce(); err != nil {
			endDecide()
			x.rejectWith(enforcementFailure(err))
			return
		}
		x.limitToGrant()
	}
	endDecide()
	x.buildRecord(x.dec.Action)
	endRecord := x.stage("record")
	err = x.commit()
	endRecord()
	if err != nil {
		x.respondFailure(err)
		return
	}
	switch {
	case x.dec.Action == decision.Allow, x.dec.Action == decision.Redact, x.embargoed():
		x.respond()
	case x.parking():
		x.park()
	default:
		x.notice()
	}
}

// checkRequest applies the limits that need no parsing.
func (x *exchange) checkRequest() error {
	lim := x.h.opts.Limits
	if lim.MaxHeaderBytes > 0 {
		n := int64(len(x.r.Method) + len(x.r.RequestURI) + len(x.r.Proto) + 4)
		for k, vs := range x.r.Header {
			for _, v := range vs {
				n += int64(len(k) + len(v) + 4)
			}
		}
		if n > lim.MaxHeaderBytes {
			return ErrHeadersTooLarge
		}
	}
	if lim.MaxRequestBody > 0 && x.r.ContentLength > lim.MaxRequestBody {
		return ErrBodyTooLarge
	}
	if x.r.Header.Get("Upgrade") != "" {
		return ErrUpgrade
	}
	return nil
}

// reject records an error decision and answers with an OperationOutcome.
func (x *exchange) reject(err error) { x.rejectWith(failureOf(err)) }

// rejectWith records an error decision and answers f.
func (x *exchange) rejectWith(f failure) {
	x.failure = &f
	x.buildRecord(decision.Error)
	x.rec.Reason = f.reason
	if cerr := x.commit(); cerr != nil {
		x.h.log.ErrorContext(x.r.Context(), "error decision not recorded", "decision", x.id, "reason", f.reason, "err", cerr)
	}
	x.writeFailure(f)
}

// respondFailure answers a failure after the decision was made (the
// journal or the upstream failed); the record is completed with it.
func (x *exchange) respondFailure(err error) {
	f := failureOf(err)
	x.failure = &f
	if !x.w.started() && f.status != 499 {
		x.writeFailure(f)
	}
}

func (x *exchange) writeFailure(f failure) {
	if f.status == 499 || x.w.started() {
		return
	}
	oo := outcome.New(outcome.Error, f.code, f.text)
	oo.Issue[0].Diagnostics = "decision " + x.id + "; reason " + f.reason
	if f.status == http.StatusUnauthorized {
		x.w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	if f.status == http.StatusServiceUnavailable {
		x.w.Header().Set("Retry-After", "5")
	}
	oo.Write(x.w, f.status)
}

// commit writes the decision entry and waits until it is durable.
func (x *exchange) commit() error {
	x.rec.DecidedAt = x.h.clock().UTC()
	// The journal may still read the projection after a cancelled wait,
	// so it gets its own copy.
	snap := x.rec
	if _, err := x.h.opts.Journal.Append(x.r.Context(), decision.KindDecision, x.id, &snap, &snap); err != nil {
		if errors.Is(err, context.Canceled) && x.r.Context().Err() != nil {
			// The entry is queued and will be written; the client left.
			x.recorded = true
			return ErrClientGone
		}
		return fmt.Errorf("%w: %w", ErrJournal, err)
	}
	x.recorded = true
	return nil
}

// notice answers a restriction that stops the request (deny; delay and
// throttle are enforced by their own components).
func (x *exchange) notice() {
	status := NoticeStatus(x.dec)
	oo := Notice(x.id, x.dec)
	if x.dec.RetryAfter > 0 {
		x.w.Header().Set("Retry-After", strconv.Itoa(int((x.dec.RetryAfter+time.Second-1)/time.Second)))
	}
	oo.Write(x.w, status)
}

func (x *exchange) buildRecord(a decision.Action) {
	path := x.r.URL.EscapedPath()
	if len(path) > maxRecordedPath {
		path = path[:maxRecordedPath]
	}
	x.rec = decision.Record{
		ID:          x.id,
		Schema:      decision.SchemaV1,
		ReceivedAt:  x.received.UTC(),
		Action:      a,
		Method:      x.r.Method,
		Path:        path,
		Requester:   x.who,
		Interaction: fhir.InteractionUnknown.String(),
		Flags:       append([]decision.Flag(nil), x.dec.Flags...),
		Policies:    x.dec.Policies,
		PolicySet:   x.dec.PolicySet,
		Exception:   x.dec.Exception,
		Reason:      x.dec.Reason,
		Throttle:    x.dec.Throttle,
		Hold:        x.dec.Hold,
		TraceID:     x.traceID(),
	}
	if x.dec.RetryAfter > 0 {
		x.rec.RetryAfter = int((x.dec.RetryAfter + time.Second - 1) / time.Second)
	}
	if req := x.req; req != nil {
		x.rec.Interaction = req.Interaction.String()
		x.rec.ResourceType = req.ResourceType
		x.rec.ResourceID = req.ID
		x.rec.Operation = req.Operation
		x.rec.Patients = req.Patients
		x.rec.DataClasses = req.DataClasses
	}
	for _, f := range x.flags {
		x.rec.AddFlag(f)
	}
	if a == x.dec.Action {
		x.openDuty()
	}
}

// finish completes the record when the response has ended, however it
// ended. A panic of http.ErrAbortHandler (the proxy aborting a response
// whose upstream or client failed mid-body) is recorded and re-raised.
func (x *exchange) finish() {
	p := recover()
	if p != nil && p != http.ErrAbortHandler {
		x.h.log.ErrorContext(x.r.Context(), "panic while serving", "decision", x.id, "panic", fmt.Sprint(p))
		f := failureOf(ErrInternal)
		x.failure = &f
		if !x.w.started() {
			x.writeFailure(f)
		}
	}
	if x.body != nil {
		x.body.close()
	}
	if !x.recorded {
		// A panic before the decision was committed: record what we know.
		if x.failure == nil {
			f := failureOf(ErrInternal)
			x.failure = &f
		}
		x.buildRecord(decision.Error)
		x.rec.Reason = x.failure.reason
		if err := x.commit(); err != nil {
			x.h.log.ErrorContext(x.r.Context(), "decision not recorded", "decision", x.id, "err", err)
		}
	}
	c := x.completion(p == http.ErrAbortHandler)
	x.rec.Complete(c)
	if err := x.h.opts.Journal.Submit(decision.KindCompletion, x.id, c, &x.rec); err != nil {
		x.h.log.ErrorContext(x.r.Context(), "completion not recorded", "decision", x.id, "err", err)
	}
	x.endRequestSpan()
	if p == http.ErrAbortHandler {
		panic(p)
	}
}

func (x *exchange) completion(aborted bool) decision.Completion {
	c := decision.Completion{
		ID:             x.id,
		FulfilledAt:    x.h.clock().UTC(),
		Status:         x.w.status,
		UpstreamStatus: x.upstreamStatus,
		BytesOut:       x.w.bytes,
		Flags:          x.flags,
	}
	if x.failure != nil {
		c.Reason = x.failure.reason
		if x.failure.status == 499 {
			c.Flags = append(c.Flags, decision.FlagClientDisconnected)
		}
		if x.recorded && x.rec.Action != decision.Error && x.failure.status != 499 {
			c.Error = true
		}
	}
	if x.upstreamErr {
		c.Flags = append(c.Flags, decision.FlagUpstreamError)
		c.Error = true
	}
	if c.Reason == "" {
		c.Reason = x.authzReason
	}
	if x.w.writeErr != nil || (aborted && x.r.Context().Err() != nil) {
		c.Flags = append(c.Flags, decision.FlagClientDisconnected)
		if c.Reason == "" {
			c.Reason = "client-disconnected"
		}
	}
	if x.filter != nil {
		s := x.filter.Stats()
		c.ResourcesReturned = s.Resources
		c.Patients = s.Patients
		for _, w := range s.Withheld {
			c.Withheld = append(c.Withheld, decision.Withheld{Type: w.Type, ID: w.ID, Count: 1, Policy: w.Tag})
		}
		if s.Uninspected > 0 || s.Malformed {
			c.Flags = append(c.Flags, decision.FlagResponseNotInspected)
		}
	}
	x.completeRedaction(&c)
	x.completeEnforcement(&c)
	return c
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// traceID returns the trace id of the request's span: the caller's trace
// continued, or a new one; without a tracer, the caller's traceparent's.
func (x *exchange) traceID() string {
	return traceIDOf(x.r.Context())
}
