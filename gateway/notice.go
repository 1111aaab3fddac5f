package gateway

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir/outcome"
)

// ExceptionSystem is the code system of the exception codes carried in
// notices (OperationOutcome.issue.details.coding).
const ExceptionSystem = "https://ehigate.dev/fhir/CodeSystem/information-blocking-exception"

// issueCode maps an action to the FHIR issue type of its notice.
func issueCode(a decision.Action) string {
	switch a {
	case decision.Throttle:
		return "throttled"
	case decision.Delay:
		return "informational"
	case decision.Redact:
		return "suppressed"
	}
	return "forbidden"
}

// Notice builds the OperationOutcome a requester gets for a restriction:
// the decision id, the exception code and CFR cite, the plain-language
// reason and the next step.
func Notice(id string, d decision.Decision) *outcome.OperationOutcome {
	severity := outcome.Error
	if d.Action == decision.Delay || d.Action == decision.Redact {
		severity = outcome.Information
	}
	var text []string
	for _, s := range []string{d.Notice.Message, d.Notice.NextStep, d.Notice.AlternativeManner} {
		if s = strings.TrimSpace(s); s != "" {
			text = append(text, s)
		}
	}
	if c := strings.TrimSpace(d.Notice.Contact); c != "" {
		text = append(text, "Contact: "+c+".")
	}
	if len(text) == 0 {
		text = append(text, "This request was not fulfilled as asked.")
	}
	oo := outcome.New(severity, issueCode(d.Action), strings.Join(text, " "))
	is := &oo.Issue[0]
	diag := []string{"decision " + id, "action " + d.Action.String()}
	if e := d.Exception; e != nil {
		is.Details.Coding = []outcome.Coding{{System: ExceptionSystem, Code: e.Code, Display: e.CFR}}
		if e.CFR != "" {
			is.Extension = append(is.Extension, outcome.Extension{URL: outcome.AuthorityURL, ValueURI: CFRURL(e.CFR)})
		}
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

// CFRURL returns the eCFR address of a cite such as "45 CFR 171.204(a)(2)".
func CFRURL(cite string) string {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(cite), "45 CFR"))
	sec, _, _ := strings.Cut(s, "(")
	sec = strings.TrimSpace(sec)
	if sec == "" {
		return "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-D/part-171"
	}
	return "https://www.ecfr.gov/current/title-45/section-" + sec
}

// DisclosureEntry returns the Bundle entry (search.mode = outcome) that
// tells the requester n resources were withheld, under which exception,
// by which decision.
func DisclosureEntry(id string, d decision.Decision, n int) []byte {
	noun := "resources were"
	if n == 1 {
		noun = "resource was"
	}
	msg := fmt.Sprintf("%d %s withheld from this response.", n, noun)
	if m := strings.TrimSpace(d.Notice.Message); m != "" {
		msg += " " + m
	}
	dd := d
	dd.Action = decision.Redact
	dd.Notice.Message = msg
	oo := Notice(id, dd)
	oo.Issue[0].Severity = outcome.Information
	oo.Issue[0].Code = "suppressed"
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
