package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir/outcome"
	"github.com/ehigate/ehigate/fhir/stream"
)

// ExceptionSystem is the code system of the exception codes carried in
// notices (OperationOutcome.issue.details.coding).
const ExceptionSystem = "https://ehigate.dev/fhir/CodeSystem/information-blocking-exception"

// notFoundText is the whole text of a notice that must not reveal that
// anything exists (a policy's notice.status 404): it reads like any other
// not-found answer.
const notFoundText = "The requested resource was not found."

// NoticeStatus returns the HTTP status a restriction is answered with
// (reference/fhir.md §5): the policy's 403 or 404 for deny and for a read
// of a withheld resource, 429 for throttle, 202 for delay.
func NoticeStatus(d decision.Decision) int {
	switch d.Action {
	case decision.Throttle:
		return http.StatusTooManyRequests
	case decision.Delay:
		return http.StatusAccepted
	}
	if d.Notice.Status == http.StatusNotFound {
		return http.StatusNotFound
	}
	return http.StatusForbidden
}

// issue returns the severity and FHIR issue type of a notice.
func issue(d decision.Decision) (severity, code string) {
	switch {
	case d.Action == decision.Throttle:
		return outcome.Error, "throttled"
	case d.Action == decision.Delay:
		return outcome.Information, "informational"
	case d.Notice.Status == http.StatusNotFound:
		return outcome.Error, "not-found"
	case d.Action == decision.Redact:
		return outcome.Error, "suppressed"
	}
	return outcome.Error, "forbidden"
}

// Notice builds the OperationOutcome a requester gets for a restriction:
// details.coding names the exception, details.text gives the policy's
// plain-language message, the next step and who to contact or another
// way to get the information, the operationoutcome-authority extension
// points at the regulation, and diagnostics carry the decision id, the
// exception and the deciding policies (never PHI). A notice whose status
// is 404 says only that the resource was not found.
func Notice(id string, d decision.Decision) *outcome.OperationOutcome {
	severity, code := issue(d)
	if d.Notice.Status == http.StatusNotFound && (d.Action == decision.Deny || d.Action == decision.Redact) {
		oo := outcome.New(severity, code, notFoundText)
		oo.Issue[0].Diagnostics = "decision " + id
		return oo
	}
	oo := outcome.New(severity, code, noticeText(d.Notice, ""))
	is := &oo.Issue[0]
	diag := []string{"decision " + id, "action " + d.Action.String()}
	if e := d.Exception; e != nil {
		exceptionIssue(is, e)
		diag = append(diag, "exception "+e.Code)
	}
	for _, p := range d.Policies {
		if p.Action == d.Action && !p.Lapsed {
			diag = append(diag, "policy "+p.ID+"@"+p.Version)
		}
	}
	is.Diagnostics = strings.Join(diag, "; ")
	return oo
}

// noticeText joins what the requester is told into details.text.
func noticeText(n decision.Notice, lead string) string {
	var text []string
	for _, s := range []string{lead, n.Message, n.NextStep, n.AlternativeManner} {
		if s = strings.TrimSpace(s); s != "" {
			text = append(text, sentence(s))
		}
	}
	if c := strings.TrimSpace(n.Contact); c != "" {
		text = append(text, "Contact: "+strings.TrimSuffix(c, ".")+".")
	}
	if len(text) == 0 {
		return "This request was not fulfilled as asked."
	}
	return strings.Join(text, " ")
}

// sentence ends s with a full stop unless it ends with punctuation.
func sentence(s string) string {
	switch s[len(s)-1] {
	case '.', '!', '?', ':', ')':
		return s
	}
	return s + "."
}

// exceptionIssue names the exception on an issue.
func exceptionIssue(is *outcome.Issue, e *decision.ExceptionRef) {
	if is.Details == nil {
		is.Details = &outcome.CodeableConcept{}
	}
	is.Details.Coding = []outcome.Coding{{System: ExceptionSystem, Code: e.Code, Display: e.CFR}}
	if e.CFR != "" {
		is.Extension = append(is.Extension, outcome.Extension{URL: outcome.AuthorityURL, ValueURI: CFRURL(e.CFR)})
	}
}

// CFRURL returns the address of a cite: eCFR for "45 CFR 171.204(a)(2)"
// (with the paragraph's anchor), the Federal Register for "85 FR 25813",
// and Part 171 for anything else.
func CFRURL(cite string) string {
	const part171 = "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-D/part-171"
	cite = strings.TrimSpace(cite)
	if rest, ok := strings.CutPrefix(cite, "45 CFR"); ok {
		rest = strings.TrimSpace(rest)
		sec, _, hasPara := strings.Cut(rest, "(")
		if sec == "" || !validSection(sec) {
			return part171
		}
		u := "https://www.ecfr.gov/current/title-45/section-" + sec
		if hasPara && validParagraph(rest) {
			u += "#p-" + rest
		}
		return u
	}
	var vol, page int
	if n, err := fmt.Sscanf(cite, "%d FR %d", &vol, &page); err == nil && n == 2 {
		return fmt.Sprintf("https://www.federalregister.gov/citation/%d-FR-%d", vol, page)
	}
	return part171
}

func validSection(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

func validParagraph(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '(' || c == ')') {
			return false
		}
	}
	return true
}

// DisclosureEntry returns the Bundle entry (search.mode = outcome) that
// tells the requester what was withheld from that Bundle: one issue per
// exception, with the count, the exception and the decision id. Resources
// withheld by a policy that documents why disclosure would itself reveal
// the sensitive fact are not counted; nil when nothing is left to disclose.
func DisclosureEntry(id string, d decision.Decision, withheld []stream.Withheld) []byte {
	return disclosureEntry(id, d, withheld, nil)
}

// disclosureEntry is DisclosureEntry; releaseAt, when set, gives the
// release time of a resource an embargo withheld, and the issue of an
// embargo tells the earliest.
func disclosureEntry(id string, d decision.Decision, withheld []stream.Withheld, releaseAt func(typ, id string) (time.Time, bool)) []byte {
	oo := disclosureOutcome(id, d, withheld, releaseAt, outcome.Information)
	if oo == nil {
		return nil
	}
	entry := struct {
		Resource *outcome.OperationOutcome `json:"resource"`
		Search   struct {
			Mode string `json:"mode"`
		} `json:"search"`
	}{Resource: oo}
	entry.Search.Mode = "outcome"
	b, _ := json.Marshal(entry)
	return b
}

// responseEntry returns what replaces, in a batch-response or
// transaction-response, the entry whose resource w was withheld, so that
// each response entry still answers its request entry: a 403 with the
// OperationOutcome a read of it would get, or a plain 404 when its
// policy conceals that anything was withheld (as a read is answered).
func responseEntry(id string, d decision.Decision, w stream.Withheld, releaseAt func(typ, id string) (time.Time, bool)) []byte {
	type response struct {
		Status  string                    `json:"status"`
		Outcome *outcome.OperationOutcome `json:"outcome,omitempty"`
	}
	r := response{Status: "404 Not Found"}
	if oo := disclosureOutcome(id, d, []stream.Withheld{w}, releaseAt, outcome.Error); oo != nil {
		r = response{Status: "403 Forbidden", Outcome: oo}
	}
	b, _ := json.Marshal(struct {
		Response response `json:"response"`
	}{r})
	return b
}

// disclosureOutcome is the OperationOutcome of disclosureEntry, its
// issues of severity sev; nil when nothing is to be disclosed.
func disclosureOutcome(id string, d decision.Decision, withheld []stream.Withheld, releaseAt func(typ, id string) (time.Time, bool), sev string) *outcome.OperationOutcome {
	type group struct {
		red   *decision.Redaction
		count int
		pols  []string
		next  time.Time
	}
	groups := map[string]*group{}
	for _, w := range withheld {
		red := d.RedactionOf(w.Tag)
		if red == nil || !red.Disclose {
			continue
		}
		key := ""
		if red.Exception != nil {
			key = red.Exception.Code
		}
		g := groups[key]
		if g == nil {
			g = &group{red: red}
			groups[key] = g
		}
		g.count++
		if !containsString(g.pols, red.Policy) {
			g.pols = append(g.pols, red.Policy)
		}
		if red.Embargo && releaseAt != nil {
			if t, ok := releaseAt(w.Type, w.ID); ok && (g.next.IsZero() || t.Before(g.next)) {
				g.next = t
			}
		}
	}
	if len(groups) == 0 {
		return nil
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	oo := &outcome.OperationOutcome{ResourceType: "OperationOutcome"}
	for _, k := range keys {
		g := groups[k]
		noun := "resources were"
		if g.count == 1 {
			noun = "resource was"
		}
		lead := fmt.Sprintf("%d %s withheld from this response.", g.count, noun)
		switch {
		case g.next.IsZero():
		case g.count == 1:
			lead = "1 resource was withheld from this response until its release time, " + g.next.UTC().Format(time.RFC3339) + "."
		default:
			lead = fmt.Sprintf("%d resources were withheld from this response until their release times; the first is released at %s.",
				g.count, g.next.UTC().Format(time.RFC3339))
		}
		is := outcome.Issue{Severity: sev, Code: "suppressed",
			Details: &outcome.CodeableConcept{Text: noticeText(g.red.Notice, lead)}}
		diag := []string{"decision " + id, fmt.Sprintf("withheld %d", g.count)}
		if e := g.red.Exception; e != nil {
			exceptionIssue(&is, e)
			diag = append(diag, "exception "+e.Code)
		}
		for _, pid := range g.pols {
			diag = append(diag, "policy "+pid+"@"+policyVersion(d, pid))
		}
		is.Diagnostics = strings.Join(diag, "; ")
		oo.Issue = append(oo.Issue, is)
	}
	return oo
}

// HoldNotice builds the informational OperationOutcome of a held request
// (202 Accepted, with its status URL in Content-Location): when it will be
// released (at a time, or by staff), the delay policy's message, next step
// and contact, its exception and the decision id.
func HoldNotice(id string, d decision.Decision) *outcome.OperationOutcome {
	lead := "This request is held."
	if h := d.Hold; h != nil {
		switch {
		case h.State == decision.HoldReleased:
			lead = "This request was released; its answer is being fetched. Check the status address again shortly."
		case h.ReleaseAt != nil:
			lead = "This request is held until " + h.ReleaseAt.UTC().Format(time.RFC3339) +
				"; its answer will then be available at the status address given in Content-Location."
		default:
			lead = "This request is held until staff release it; its answer will then be available at the status address given in Content-Location."
		}
	}
	oo := outcome.New(outcome.Information, "informational", noticeText(d.Notice, lead))
	is := &oo.Issue[0]
	diag := []string{"decision " + id, "action delay"}
	if e := d.Exception; e != nil {
		exceptionIssue(is, e)
		diag = append(diag, "exception "+e.Code)
	}
	for _, p := range d.Policies {
		if p.Action == decision.Delay && !p.Lapsed {
			diag = append(diag, "policy "+p.ID+"@"+p.Version)
		}
	}
	is.Diagnostics = strings.Join(diag, "; ")
	return oo
}

func policyVersion(d decision.Decision, id string) string {
	for _, p := range d.Policies {
		if p.ID == id {
			return p.Version
		}
	}
	return "?"
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
