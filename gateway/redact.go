package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/outcome"
	"github.com/ehigate/ehigate/fhir/stream"
)

// Redaction never lets a withheld resource reach the requester:
//
//   - Bundles (searches, $everything, history, batch/transaction
//     responses) and Bulk NDJSON files are filtered as they stream. In a
//     batch-response or transaction-response a withheld entry is replaced
//     by a 403 entry with the notice (404 where the policy conceals the
//     withholding), so the n-th entry still answers the n-th request.
//   - A single resource is held back by the filter until it is complete,
//     and the response's status line is held back with it (heldWriter):
//     a withheld resource is answered with a notice instead, never with
//     the resource.
//   - A response that cannot be filtered (a format other than JSON or
//     NDJSON, an unknown content encoding, malformed JSON, a resource
//     larger than limits.max_resource) is refused with a notice while
//     nothing has been sent, and cut off otherwise; the record says why.

// Reasons recorded when redaction was in force but the response could not
// be filtered.
const (
	reasonUnfilterable = "response-not-filterable"
	reasonHead         = "redaction-head-not-supported"
)

// errUnfilterable is returned by the guard when a resource passed through
// the filter uninspected.
var errUnfilterable = errors.New("gateway: a resource could not be inspected while redaction was in force")

// redacting reports whether redaction by policy is in force for the
// exchange (SMART scope checks, authz.go, have their own rules).
func (x *exchange) redacting() bool { return x.dec.Withhold != nil && len(x.dec.Redactions) > 0 }

// refuse answers with a notice naming the redaction in force, when
// nothing has been sent yet, and records why.
func (x *exchange) refuse(reason string, status int, text string) {
	x.unfiltered = reason
	if x.held != nil && x.held.sent || x.held == nil && x.w.started() {
		return
	}
	oo := outcome.New(outcome.Error, "not-supported", text)
	if status == http.StatusBadGateway {
		oo.Issue[0].Code = "exception"
	}
	is := &oo.Issue[0]
	if e := x.dec.Exception; e != nil && x.dec.Notice.Status != http.StatusNotFound {
		exceptionIssue(is, e)
	}
	is.Diagnostics = "decision " + x.id + "; reason " + reason
	x.writeNotice(oo, status)
}

// writeNotice replaces whatever response was being prepared with oo.
func (x *exchange) writeNotice(oo *outcome.OperationOutcome, status int) {
	h := x.w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set(HeaderDecision, x.id)
	out := x.w.ResponseWriter
	if x.held != nil {
		out = x.held.ResponseWriter
		x.held.sent = true
	}
	b := oo.JSON()
	h.Set("Content-Type", outcome.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	out.WriteHeader(status)
	n, err := out.Write(b)
	x.w.status, x.w.bytes = status, int64(n)
	if err != nil && x.w.writeErr == nil {
		x.w.writeErr = err
	}
}

// guard sits between the filter and the rest of the chain while redaction
// is in force. The filter passes a resource through uninspected when it
// exceeds limits.max_resource or is ambiguous; the guard holds what the
// filter writes during each Write and drops it, failing the body, when
// the filter reports such a resource, so that nothing uninspected is sent.
type guard struct {
	f    *stream.Filter
	buf  bytes.Buffer
	next io.WriteCloser
	x    *exchange
	err  error
}

// guardedFilter returns the head of the filtering chain writing to next.
func (x *exchange) guardedFilter(next io.WriteCloser, opts stream.Options) io.WriteCloser {
	g := &guard{next: next, x: x}
	g.f = stream.NewFilter(&g.buf, opts)
	x.filter = g.f
	return g
}

func (g *guard) Write(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	_, err := g.f.Write(p)
	if err == nil {
		err = g.check()
	}
	if err != nil {
		return 0, g.fail(err)
	}
	if err := g.flush(); err != nil {
		return 0, g.fail(err)
	}
	return len(p), nil
}

func (g *guard) Close() error {
	if g.err != nil {
		g.next.Close()
		return g.err
	}
	err := g.f.Close()
	if err == nil {
		err = g.check()
	}
	if err == nil {
		err = g.flush()
	}
	if cerr := g.next.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return g.fail(err)
	}
	return nil
}

func (g *guard) check() error {
	if g.f.Stats().Uninspected > 0 {
		return errUnfilterable
	}
	return nil
}

func (g *guard) flush() error {
	if g.buf.Len() == 0 {
		return nil
	}
	_, err := g.next.Write(g.buf.Bytes())
	g.buf.Reset()
	return err
}

func (g *guard) fail(err error) error {
	g.buf.Reset()
	g.err = err
	if errors.Is(err, errUnfilterable) || errors.Is(err, stream.ErrMalformed) {
		g.x.unfiltered = reasonUnfilterable
		if g.x.held != nil {
			g.x.held.failed = true
		}
	}
	return err
}

// refuseUnfilterable replaces an upstream response that cannot be
// filtered (called from ModifyResponse, before anything is sent).
func (x *exchange) refuseUnfilterable(resp *http.Response) {
	x.unfiltered = reasonUnfilterable
	oo := outcome.New(outcome.Error, "not-supported", "A restriction applies to some of the information requested, and the health record system answered in a form it cannot be removed from, so the answer was not passed on. Ask for application/fhir+json.")
	if e := x.dec.Exception; e != nil && x.dec.Notice.Status != http.StatusNotFound {
		exceptionIssue(&oo.Issue[0], e)
	}
	oo.Issue[0].Diagnostics = "decision " + x.id + "; reason " + reasonUnfilterable
	b := oo.JSON()
	if resp.Body != nil {
		resp.Body.Close()
	}
	status := http.StatusBadGateway
	if f := x.req.Format; f != fhir.FormatUnspecified && f != fhir.FormatJSON && f != fhir.FormatNDJSON {
		status = http.StatusNotAcceptable
	}
	resp.StatusCode, resp.Status = status, strconv.Itoa(status)+" "+http.StatusText(status)
	resp.Header = http.Header{}
	resp.Header.Set("Content-Type", outcome.ContentType)
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.Header.Set("Cache-Control", "no-store")
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Trailer = nil
}

// completeRedaction adds to the completion what redaction did: why a
// response was not filtered, and the notice item a withholding opens when
// its exception requires a written response.
func (x *exchange) completeRedaction(c *decision.Completion) {
	if x.unfiltered != "" {
		c.Flags = append(c.Flags, decision.FlagResponseNotFiltered)
		if c.Reason == "" {
			c.Reason = x.unfiltered
		}
	}
	if x.filter == nil || x.rec.Notice != nil {
		return
	}
	for _, w := range x.filter.Stats().Withheld {
		if r := x.dec.RedactionOf(w.Tag); r != nil && r.Duty != nil {
			c.Notice = r.Duty
			c.Flags = append(c.Flags, decision.FlagNoticeRequired)
			return
		}
	}
}

// openDuty opens the notice item of a denial whose exception requires a
// written response (the decision entry carries it).
func (x *exchange) openDuty() {
	if x.dec.Duty != nil && x.rec.Action == decision.Deny {
		x.rec.Notice = x.dec.Duty
		x.rec.AddFlag(decision.FlagNoticeRequired)
	}
}
