package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ehigate/ehigate/decision"
)

// outcome returns the event's outcome code and its description. A
// restriction is a minor failure (4), a serious one (8) when the answer was
// a server error, and a success (0) for a redaction that withheld nothing.
// Other events take their outcome from the status sent: 2xx and 3xx
// success, 4xx minor, 5xx or none serious; an event still in progress has
// no outcome yet.
func outcome(r *decision.Record) (code, desc string) {
	if authz(r) {
		withheld := 0
		for _, w := range r.Withheld {
			withheld += w.Count
		}
		code = OutcomeMinor
		switch {
		case r.Status >= 500:
			code = OutcomeSerious
		case r.Action == decision.Redact && withheld == 0 && r.Status < 400:
			code = OutcomeSuccess
		}
		return code, authzDesc(r, withheld)
	}
	var d descBuilder
	switch {
	case r.Status == 0 && r.FulfilledAt == nil:
		return "", "in progress: no response yet"
	case r.Status == 0:
		code = OutcomeSerious
		d.add("no response was sent")
	case r.Status >= 500:
		code = OutcomeSerious
	case r.Status >= 400:
		code = OutcomeMinor
	case r.Action == decision.Error:
		code = OutcomeSerious
	default:
		code = OutcomeSuccess
	}
	d.tail(r)
	if r.Action == decision.Error {
		return code, "ERROR: " + d.String()
	}
	return code, d.String()
}

// authzDesc explains a restriction: the action, the exception, the
// deciding policies and what the requester was told, never content.
func authzDesc(r *decision.Record, withheld int) string {
	var d descBuilder
	if e := r.Exception; e != nil && e.Code != "" {
		if e.CFR != "" {
			d.add(fmt.Sprintf("exception %s (%s)", e.Code, e.CFR))
		} else {
			d.add("exception " + e.Code)
		}
	}
	var pols []string
	for _, p := range decidingPolicies(r) {
		pols = append(pols, p.ID+"@"+p.Version)
	}
	if len(pols) > 0 {
		d.add("policy " + strings.Join(pols, ", "))
	}
	switch r.Action {
	case decision.Redact:
		if withheld == 0 {
			d.add("nothing withheld")
		} else {
			d.add(withheldText(r.Withheld, withheld, "withheld"))
		}
	case decision.Throttle:
		if r.RetryAfter > 0 {
			d.add("retry after " + strconv.Itoa(r.RetryAfter) + " s")
		}
	case decision.Delay:
		switch {
		case r.Hold != nil && r.Hold.ReleaseAt != nil:
			d.add("held until " + instant(*r.Hold.ReleaseAt))
		case r.Hold != nil:
			d.add("held until released by staff")
		case withheld > 0:
			d.add(withheldText(r.Withheld, withheld, "held back"))
		}
	}
	d.tail(r)
	return strings.ToUpper(r.Action.String()) + ": " + d.String()
}

// withheldText counts what was withheld by type, e.g. "3 resources
// withheld (DocumentReference 2, Observation 1)".
func withheldText(ws []decision.Withheld, total int, verb string) string {
	byType := map[string]int{}
	for _, w := range ws {
		byType[clean(w.Type)] += w.Count
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	slices.Sort(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t + " " + strconv.Itoa(byType[t])
	}
	noun := "resources"
	if total == 1 {
		noun = "resource"
	}
	return fmt.Sprintf("%d %s %s (%s)", total, noun, verb, strings.Join(parts, ", "))
}

// descBuilder joins the parts of a description with "; ".
type descBuilder struct{ parts []string }

func (d *descBuilder) add(s string) {
	if s = clean(s); s != "" {
		d.parts = append(d.parts, s)
	}
}

// tail adds the reason code, the status and the flags.
func (d *descBuilder) tail(r *decision.Record) {
	if r.Reason != "" {
		d.add("reason " + r.Reason)
	}
	if r.Status != 0 {
		d.add("HTTP " + strconv.Itoa(r.Status))
	}
	if len(r.Flags) > 0 {
		fs := make([]string, len(r.Flags))
		for i, f := range r.Flags {
			fs[i] = string(f)
		}
		d.add("flags " + strings.Join(fs, ", "))
	}
}

// String returns the description.
func (d *descBuilder) String() string { return strings.Join(d.parts, "; ") }

// exceptionExtensions returns the ExceptionExtension of a restriction,
// one per deciding policy (one without policy when an exception was
// relied on with none, e.g. a scope denial), or nil for other events.
func (b *Builder) exceptionExtensions(r *decision.Record, deciding []decision.PolicyRef) []Extension {
	if !r.Action.Restricts() && r.Action != decision.Error {
		return nil
	}
	if r.Exception == nil && len(deciding) == 0 {
		return nil
	}
	if len(deciding) == 0 {
		deciding = []decision.PolicyRef{{}}
	}
	out := make([]Extension, 0, len(deciding))
	for _, p := range deciding {
		code := p.Exception
		if code == "" && r.Exception != nil {
			code = r.Exception.Code
		}
		cfr := ""
		switch {
		case r.Exception != nil && r.Exception.Code == code:
			cfr = r.Exception.CFR
		case b.opts.CFR != nil && code != "":
			cfr = b.opts.CFR(code)
		}
		ext := Extension{URL: ExceptionExtension}
		sub := func(url, v string) {
			if v = clean(v); v != "" {
				ext.Extension = append(ext.Extension, Extension{URL: url, ValueString: v})
			}
		}
		if validCode(code) {
			ext.Extension = append(ext.Extension, Extension{URL: "code", ValueCoding: &Coding{System: ExceptionSystem, Code: code}})
		}
		sub("cfr", cfr)
		sub("policy", p.ID)
		sub("policyVersion", p.Version)
		sub("policySha256", p.SHA256)
		if r.Exception != nil {
			sub("catalogVersion", r.Exception.CatalogVersion)
		}
		sub("decision", r.ID)
		out = append(out, ext)
	}
	return out
}

// clean makes s a valid FHIR string: valid UTF-8, no control characters
// other than tab and line breaks, no surrounding space ("" when nothing
// is left).
func clean(s string) string {
	bad := func(r rune) bool {
		return r == utf8.RuneError || unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
	}
	if strings.IndexFunc(s, bad) >= 0 || !utf8.ValidString(s) {
		s = strings.Map(func(r rune) rune {
			if bad(r) {
				return -1
			}
			return r
		}, strings.ToValidUTF8(s, ""))
	}
	return strings.TrimSpace(s)
}

// validCode reports whether s is a valid FHIR code: non-empty, no
// leading, trailing or repeated whitespace, no control characters.
func validCode(s string) bool {
	if s == "" || clean(s) != s {
		return false
	}
	prevSpace := false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if space && (r != ' ' || prevSpace) {
			return false
		}
		prevSpace = space
	}
	return true
}

// isURI reports whether s can be a FHIR uri: non-empty, no whitespace.
func isURI(s string) bool {
	return s != "" && strings.IndexFunc(s, unicode.IsSpace) < 0 && clean(s) == s
}
