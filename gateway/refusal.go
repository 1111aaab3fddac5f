package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/stream"
)

// Refusals the upstream makes on its own. When the gateway let a request
// go upstream and the upstream answers 401, 403, 429, 451 or 503, or a
// search Bundle carries an OperationOutcome entry whose issues are
// suppressed, forbidden or throttled, the record is flagged
// upstream-restriction. Unless an upstream_refusals entry documents that
// behaviour (by status, issue codes, interaction and resource type) it is
// also flagged undocumented: compliance staff find with `ehigate report
// undocumented` the blanket blocks nobody documented. A documented
// refusal names its entry among the record's policies, like a policy.

// UpstreamRefusal is a documented refusal of the upstream.
type UpstreamRefusal struct {
	// Ref is the documenting entry as records name it (id, version,
	// sha256 of its canonical text, exception); Action is set per refusal.
	Ref decision.PolicyRef
	// Statuses, IssueCodes, Interactions and ResourceTypes are what the
	// entry matches; empty lists match anything.
	Statuses      []int
	IssueCodes    []string
	Interactions  []string
	ResourceTypes []string
	// ReviewBy is the entry's review date; past it the records it
	// documents are flagged review-overdue.
	ReviewBy time.Time
}

// refusalStatuses are the upstream statuses that refuse a request.
var refusalStatuses = map[int]bool{
	http.StatusUnauthorized: true, http.StatusForbidden: true, http.StatusTooManyRequests: true,
	http.StatusUnavailableForLegalReasons: true, http.StatusServiceUnavailable: true,
}

// withholdingIssues are the OperationOutcome issue codes that withhold.
var withholdingIssues = map[string]bool{"suppressed": true, "forbidden": true, "throttled": true}

// maxPeek bounds the body read to find an error answer's issue codes.
const maxPeek = 64 << 10

// refusal is what the upstream refused.
type refusal struct {
	status int
	codes  []string
}

// sentUpstream reports whether the gateway let the request go upstream
// (any refusal of its answer is then the upstream's own).
func (x *exchange) sentUpstream() bool {
	switch x.dec.Action {
	case decision.Allow, decision.Redact:
		return true
	}
	return x.embargoed()
}

// detectRefusal notes a refusal status when upstream headers arrive, with
// the issue codes of its OperationOutcome when the body is small JSON.
func (x *exchange) detectRefusal(resp *http.Response) {
	if !refusalStatuses[resp.StatusCode] || !x.sentUpstream() {
		return
	}
	x.refusal = &refusal{status: resp.StatusCode}
	if resp.Body == nil || resp.Body == http.NoBody || kindOf(resp.Header.Get("Content-Type")) != bodyJSON {
		return
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return
	}
	orig := resp.Body
	peek, err := io.ReadAll(io.LimitReader(orig, maxPeek))
	resp.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(peek), orig), close: orig.Close}
	if err != nil || len(peek) == maxPeek {
		return
	}
	if r, err := fhir.NewResource(peek); err == nil && r.Type == "OperationOutcome" {
		x.refusal.codes = issueCodes(r)
	}
}

// watchOutcomes makes the response filter of a search show the gateway
// the OperationOutcome entries of the Bundle.
func (x *exchange) watchOutcomes(o *stream.Options) {
	if x.req == nil || !x.sentUpstream() {
		return
	}
	switch x.req.Interaction {
	case fhir.SearchType, fhir.SearchSystem, fhir.Operation, fhir.HistoryType, fhir.HistorySystem, fhir.HistoryInstance:
	default:
		return
	}
	prev := o.Inspect
	o.Inspect = func(r *fhir.Resource) stream.Verdict {
		if r.Type == "OperationOutcome" {
			x.noteOutcome(r)
		}
		if prev != nil {
			return prev(r)
		}
		return stream.Verdict{}
	}
}

// noteOutcome notes the withholding issues of an OperationOutcome entry.
func (x *exchange) noteOutcome(r *fhir.Resource) {
	var codes []string
	for _, c := range issueCodes(r) {
		if withholdingIssues[c] {
			codes = append(codes, c)
		}
	}
	if len(codes) == 0 {
		return
	}
	if x.refusal == nil {
		x.refusal = &refusal{status: x.upstreamStatus}
	}
	for _, c := range codes {
		if !slices.Contains(x.refusal.codes, c) {
			x.refusal.codes = append(x.refusal.codes, c)
		}
	}
}

// issueCodes returns the issue codes of an OperationOutcome.
func issueCodes(r *fhir.Resource) []string {
	raw, ok := r.Get("issue")
	if !ok {
		return nil
	}
	var issues []struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(raw, &issues) != nil {
		return nil
	}
	var out []string
	for _, is := range issues {
		if is.Code != "" && !slices.Contains(out, is.Code) {
			out = append(out, is.Code)
		}
	}
	return out
}

// completeRefusal flags the completion of a request the upstream refused,
// naming the entry that documents it, if any.
func (x *exchange) completeRefusal(c *decision.Completion) {
	rf := x.refusal
	if rf == nil {
		return
	}
	c.Flags = append(c.Flags, decision.FlagUpstreamRestriction)
	if c.Reason == "" {
		c.Reason = "upstream-refusal"
	}
	for i := range x.h.opts.Refusals {
		e := &x.h.opts.Refusals[i]
		if !e.documents(rf, x.req) {
			continue
		}
		ref := e.Ref
		ref.Action = rf.action()
		if !e.ReviewBy.IsZero() && !x.received.Before(e.ReviewBy) {
			ref.ReviewOverdue = true
			c.Flags = append(c.Flags, decision.FlagReviewOverdue)
		}
		c.Policies = append(c.Policies, ref)
		return
	}
	c.Flags = append(c.Flags, decision.FlagUndocumented)
}

// documents reports whether the entry documents refusal rf of req.
func (e *UpstreamRefusal) documents(rf *refusal, req *fhir.Request) bool {
	if len(e.Statuses) > 0 && !slices.Contains(e.Statuses, rf.status) {
		return false
	}
	if len(e.IssueCodes) > 0 && !slices.ContainsFunc(rf.codes, func(c string) bool { return slices.Contains(e.IssueCodes, c) }) {
		return false
	}
	if len(e.Interactions) > 0 && (req == nil || !slices.Contains(e.Interactions, req.Interaction.String())) {
		return false
	}
	if len(e.ResourceTypes) > 0 && (req == nil || !slices.Contains(e.ResourceTypes, req.ResourceType)) {
		return false
	}
	return true
}

// action is what the upstream's refusal amounts to.
func (rf *refusal) action() decision.Action {
	switch {
	case rf.status == http.StatusTooManyRequests || slices.Contains(rf.codes, "throttled"):
		return decision.Throttle
	case rf.status < 300:
		return decision.Redact
	}
	return decision.Deny
}
