package gateway

import (
	"net/http"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/outcome"
)

// A response that is checked resource by resource — against the SMART
// grant (authz.go) or the policies' redactions (redact.go) — must never
// start before the gateway knows it may be sent: a withheld single
// resource is answered with a notice (or, for a scope, a 404) instead,
// and a response that cannot be checked is refused. heldWriter holds the
// status line and headers until the first body byte the filter releases,
// or the end of the response; settle then decides.

// respond answers an allowed (or redacted) request: the configured SMART
// configuration, or the upstream's answer, checked when a grant or a
// redaction applies.
func (x *exchange) respond() {
	if x.req.Interaction == fhir.SmartConfiguration && x.h.opts.SmartConfiguration != nil {
		x.smartConfiguration()
		return
	}
	if x.grant == nil && !x.redacting() {
		x.forward()
		return
	}
	if x.redacting() {
		if x.r.Method == http.MethodHead {
			x.refuse(reasonHead, http.StatusForbidden, "This server cannot answer HEAD requests while a restriction applies to the information requested; use GET.")
			return
		}
		if f := x.req.Format; f == fhir.FormatXML || f == fhir.FormatTurtle {
			x.refuse(reasonUnfilterable, http.StatusNotAcceptable, "A restriction applies to some of the information requested, and it can only be removed from FHIR JSON responses. Ask for application/fhir+json.")
			return
		}
	}
	orig := x.w.ResponseWriter
	hw := &heldWriter{ResponseWriter: orig, x: x, proxying: true}
	x.held = hw
	x.w.ResponseWriter = hw
	defer func() {
		p := recover()
		hw.proxying = false
		x.w.ResponseWriter = orig
		if p != nil && (p != http.ErrAbortHandler || hw.sent) {
			panic(p)
		}
		x.settle(p != nil)
	}()
	x.forward()
}

// settle finishes a held response once the proxy is done with it.
func (x *exchange) settle(aborted bool) {
	hw := x.held
	switch {
	case hw.sent:
	case hw.refused:
		x.refuseUnchecked()
	case hw.failed:
		x.refuse(reasonUnfilterable, http.StatusBadGateway, "The health record system's answer could not be checked for restricted information, so it was not passed on. Please retry; if this persists, contact the organization.")
	case x.withheldAll():
		x.answerWithheld()
	case aborted:
		// The upstream failed while its answer was held back.
		x.upstreamErr = true
		f := failureOf(ErrUpstreamInvalid)
		x.failure = &f
		oo := outcome.New(outcome.Error, f.code, f.text)
		oo.Issue[0].Diagnostics = "decision " + x.id + "; reason " + f.reason
		x.writeNotice(oo, f.status)
	case hw.status != 0:
		hw.send()
	}
}

// withheldAll reports whether the response filter withheld the top-level
// resource itself.
func (x *exchange) withheldAll() bool { return x.filter != nil && x.filter.Stats().WithheldAll }

// answerWithheld answers a request whose single resource was withheld: as
// not found when no scope releases it, with the withholding policy's
// notice otherwise.
func (x *exchange) answerWithheld() {
	var tag string
	if ws := x.filter.Stats().Withheld; len(ws) > 0 {
		tag = ws[0].Tag
	}
	if tag == ScopePolicy {
		x.authzReason = x.scopeReason
		oo := outcome.New(outcome.Error, "not-found", "The resource was not found, or is not available to this access token.")
		oo.Issue[0].Diagnostics = "decision " + x.id
		x.writeNotice(oo, http.StatusNotFound)
		return
	}
	var red decision.Redaction
	if r := x.dec.RedactionOf(tag); r != nil {
		red = *r
	}
	d := decision.Decision{Action: decision.Redact, Exception: red.Exception, Notice: red.Notice}
	for _, p := range x.dec.Policies {
		if p.ID == red.Policy {
			d.Policies = append(d.Policies, p)
		}
	}
	x.writeNotice(Notice(x.id, d), NoticeStatus(d))
}

// heldWriter holds the status line and headers until the first body byte
// the filter releases. At that byte the response is checked (releasable):
// one the gateway cannot check is swallowed (refused). Bytes written after
// the filter withheld the whole single resource are framing only (an
// empty gzip stream) and are dropped, so that settle can answer instead.
type heldWriter struct {
	http.ResponseWriter
	x      *exchange
	status int
	// sent: the status line went out (the upstream's, or a notice).
	sent bool
	// refused: the response could not be checked against the grant.
	refused bool
	// failed: the filter found the body unfilterable under redaction.
	failed bool
	// proxying is set while the upstream's answer streams; answers the
	// gateway writes itself afterwards always pass.
	proxying bool
}

func (w *heldWriter) WriteHeader(code int) {
	if code < 200 {
		w.ResponseWriter.WriteHeader(code) // informational: passes at once
		return
	}
	if w.status == 0 {
		w.status = code
	}
}

func (w *heldWriter) Write(b []byte) (int, error) {
	if w.refused {
		return len(b), nil
	}
	if !w.sent {
		if w.proxying && w.x.withheldAll() {
			return len(b), nil
		}
		if w.status == 0 {
			w.status = http.StatusOK
		}
		if w.proxying && !w.x.releasable(w.status, w.Header()) {
			w.refused = true
			return len(b), nil
		}
		w.send()
	}
	return w.ResponseWriter.Write(b)
}

// send releases the held status line.
func (w *heldWriter) send() {
	if !w.sent {
		w.sent = true
		w.ResponseWriter.WriteHeader(w.status)
	}
}

// Flush sends nothing before the status line is released.
func (w *heldWriter) Flush() {
	if !w.sent || w.refused {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *heldWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
