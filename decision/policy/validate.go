package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
)

var (
	idRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$`)
	rateRE    = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)/(s|m|h)$`)
	elementRE = regexp.MustCompile(`^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$`)
)

// Review outcomes.
var reviewOutcomes = []string{"continue", "amend", "end"}

// checker validates policies against the catalog.
type checker struct {
	cat         *exceptions.Catalog
	envs        *celEnvs
	maxInterval time.Duration
	ps          yamlx.Problems
	warnings    yamlx.Problems
}

// check validates p, normalizes it and compiles its conditions.
func (c *checker) check(p *Policy) {
	ps := &c.ps
	if p.ID == "" {
		p.problem(ps, "id", "is required")
	} else if !idRE.MatchString(p.ID) {
		p.problem(ps, "id", "want letters, digits, '.', '_' or '-' (at most 64), got %q", p.ID)
	}
	if p.Version == "" {
		p.problem(ps, "version", "is required")
	} else if !versionRE.MatchString(p.Version) {
		p.problem(ps, "version", "want a short version such as 3 or 2026.1, got %q", p.Version)
	}
	if strings.TrimSpace(p.Description) == "" {
		p.problem(ps, "description", "is required")
	}
	if !p.src.doc.Has(p.src.path + ".action") {
		p.problem(ps, "action", "is required (allow, redact, throttle, delay or deny)")
	} else if p.Action == decision.Error {
		p.problem(ps, "action", "want allow, redact, throttle, delay or deny")
	}
	c.checkMatch(p)
	if p.Restricts() {
		c.checkException(p)
		c.checkDocumentation(p)
		c.checkNotice(p)
		c.checkReviews(p)
	} else {
		c.checkAllow(p)
	}
	c.checkActionParams(p)
}

func (c *checker) checkAllow(p *Policy) {
	ps := &c.ps
	if p.Exception != "" {
		if e, err := c.cat.Lookup(p.Exception); err == nil {
			p.entry = e
			p.Exception = e.Code
		} else {
			p.problem(ps, "exception", "unknown exception code %q (see ehigate exceptions)", p.Exception)
		}
	}
	if p.Notice != (Notice{}) {
		p.problem(ps, "notice", "applies only to restricting actions")
	}
	if p.OnReviewOverdue != "" && p.OnReviewOverdue != "keep" && p.OnReviewOverdue != "lapse" {
		p.problem(ps, "on_review_overdue", "want keep or lapse, got %q", p.OnReviewOverdue)
	}
	c.checkReviews(p)
}

func (c *checker) checkException(p *Policy) {
	ps := &c.ps
	if p.Exception == "" {
		p.problem(ps, "exception", "is required: a restriction must cite its exception (see ehigate exceptions)")
		return
	}
	e, err := c.cat.Lookup(p.Exception)
	if err != nil {
		p.problem(ps, "exception", "unknown exception code %q (see ehigate exceptions)", p.Exception)
		return
	}
	if !e.Citable() {
		switch {
		case e.Redirect != "":
			p.problem(ps, "exception", "%s (%s) routes to %s: cite the %s exception instead", e.Code, e.CFR, e.Redirect, e.Redirect)
		default:
			var subs []string
			for _, s := range e.Subcodes {
				if s.Citable() {
					subs = append(subs, s.Code)
				}
			}
			p.problem(ps, "exception", "%s has sub-conditions: cite one of %s", e.Code, strings.Join(subs, ", "))
		}
		return
	}
	p.entry = e
	p.Exception = e.Code
	switch e.EffectiveStatus() {
	case exceptions.StatusAtRisk:
		p.problem(&c.warnings, "exception", "%s is at risk: a proposed rule would remove or limit it; review this policy when the rule is final", e.Code)
	case exceptions.StatusWatch:
		p.problem(&c.warnings, "exception", "%s is under revision by a proposed rule; review this policy when the rule is final", e.Code)
	}
}

func (c *checker) checkDocumentation(p *Policy) {
	ps := &c.ps
	d := &p.Documentation
	required := func(key, val, why string) {
		if strings.TrimSpace(val) == "" {
			p.problem(ps, "documentation."+key, "is required (%s)", why)
		}
	}
	required("rationale", d.Rationale, "why the restriction is needed")
	required("decided_by.name", d.DecidedBy.Name, "who decided")
	required("decided_by.role", d.DecidedBy.Role, "the decider's role")
	if p.entry != nil && p.entry.LicensedProfessional {
		required("decided_by.credentials", d.DecidedBy.Credentials, p.entry.Code+" must be decided by a licensed health care professional")
	}
	if d.DecidedAt.IsZero() {
		p.problem(ps, "documentation.decided_at", "is required (the date of the decision)")
	}
	required("ehi_scope", d.EHIScope, "the EHI the restriction covers")
	required("minimum_necessary", d.MinimumNecessary, "why it is no broader than necessary")
	if d.ReviewBy.IsZero() {
		p.problem(ps, "documentation.review_by", "is required (the date the policy must be reviewed by)")
	} else if !d.DecidedAt.IsZero() && !d.ReviewBy.After(d.DecidedAt) {
		p.problem(ps, "documentation.review_by", "must be after decided_at")
	}
	if len(d.Evidence) == 0 {
		p.problem(ps, "documentation.evidence", "is required (references to the risk analyses, audit reports or laws relied on)")
	}
	for i, e := range d.Evidence {
		if strings.TrimSpace(e) == "" {
			p.problem(ps, fmt.Sprintf("documentation.evidence[%d]", i), "must not be empty")
		}
	}
	if p.entry != nil {
		c.checkConditions(p)
	}
}

// checkConditions checks documentation.conditions against the fields the
// cited entry requires.
func (c *checker) checkConditions(p *Policy) {
	ps := &c.ps
	fields := p.entry.Fields()
	known := map[string]exceptions.Field{}
	for _, f := range fields {
		known[f.Name] = f
	}
	conds := p.Documentation.Conditions
	for _, f := range fields {
		key := "documentation.conditions." + f.Name
		v, ok := conds[f.Name]
		if !ok || v == nil {
			if !f.Optional {
				p.problem(ps, key, "is required by %s (%s)", p.entry.Code, f.Text)
			}
			continue
		}
		if msg := checkField(f, v); msg != "" {
			p.problem(ps, key, "%s", msg)
		}
	}
	for name := range conds {
		if _, ok := known[name]; !ok {
			names := make([]string, 0, len(fields))
			for _, f := range fields {
				names = append(names, f.Name)
			}
			hint := "it takes none"
			if len(names) > 0 {
				hint = "it takes " + strings.Join(names, ", ")
			}
			p.problem(ps, "documentation.conditions."+name, "is not a field of %s (%s)", p.entry.Code, hint)
		}
	}
	if p.Documentation.Conditions != nil {
		p.Documentation.Conditions = normalizeConditions(conds)
	}
}

// checkField checks one condition value; it returns a message or "".
func checkField(f exceptions.Field, v any) string {
	switch f.Type {
	case exceptions.FieldList:
		l, ok := v.([]any)
		min := max(f.Min, 1)
		if !ok {
			return fmt.Sprintf("want a list (%s)", f.Text)
		}
		if len(l) < min {
			return fmt.Sprintf("want at least %d items (%s)", min, f.Text)
		}
		for _, e := range l {
			if s, ok := e.(string); ok && strings.TrimSpace(s) == "" {
				return "items must not be empty"
			}
		}
		return ""
	case exceptions.FieldDate:
		switch x := v.(type) {
		case time.Time:
			return ""
		case string:
			if _, err := yamlx.ParseTime(x); err == nil {
				return ""
			}
		}
		return fmt.Sprintf("want a date (2006-01-02) or an RFC 3339 time (%s)", f.Text)
	case exceptions.FieldEnum:
		s, _ := v.(string)
		if !slices.Contains(f.Values, s) {
			return fmt.Sprintf("want one of %s, got %v", strings.Join(f.Values, ", "), v)
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("want text, got %v: put it in quotes (%s)", v, f.Text)
	}
	if strings.TrimSpace(s) == "" {
		return fmt.Sprintf("must not be empty (%s)", f.Text)
	}
	return ""
}

// normalizeConditions makes condition values canonical: dates as
// 2006-01-02 (or RFC 3339 UTC when they carry a time).
func normalizeConditions(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		x = x.UTC()
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	case map[string]any:
		return normalizeConditions(x)
	}
	return v
}

func (c *checker) checkNotice(p *Policy) {
	ps := &c.ps
	n := &p.Notice
	if strings.TrimSpace(n.Message) == "" {
		p.problem(ps, "notice.message", "is required (the plain-language message the requester gets)")
	}
	if strings.TrimSpace(n.NextStep) == "" {
		p.problem(ps, "notice.next_step", "is required (what the requester can do next)")
	}
	if strings.TrimSpace(n.Contact) == "" && strings.TrimSpace(n.AlternativeManner) == "" {
		p.problem(ps, "notice.contact", "is required unless notice.alternative_manner is given (who to contact, or another way to get the information)")
	}
	switch n.Status {
	case 0, 403:
	case 404:
		if p.Action != decision.Deny && p.Action != decision.Redact {
			p.problem(ps, "notice.status", "404 applies only to deny and redact")
		} else if strings.TrimSpace(p.Documentation.ConcealExistenceReason) == "" {
			p.problem(ps, "documentation.conceal_existence_reason", "is required with notice.status 404 (why the requester must not learn the resource exists)")
		}
	default:
		p.problem(ps, "notice.status", "want 403 or 404, got %d", n.Status)
	}
	if p.Documentation.ConcealExistenceReason != "" && n.Status != 404 {
		p.problem(ps, "documentation.conceal_existence_reason", "applies only with notice.status 404")
	}
}

func (c *checker) checkReviews(p *Policy) {
	ps := &c.ps
	d := &p.Documentation
	last := d.DecidedAt
	for i, r := range p.Reviews {
		k := fmt.Sprintf("reviews[%d]", i)
		if strings.TrimSpace(r.By) == "" {
			p.problem(ps, k+".by", "is required (who reviewed)")
		}
		if r.At.IsZero() {
			p.problem(ps, k+".at", "is required (when)")
		} else if !d.DecidedAt.IsZero() && r.At.Before(d.DecidedAt) {
			p.problem(ps, k+".at", "is before documentation.decided_at")
		}
		if !slices.Contains(reviewOutcomes, r.Outcome) {
			p.problem(ps, k+".outcome", "want continue, amend or end, got %q", r.Outcome)
		}
		if r.At.After(last) {
			last = r.At
		}
	}
	if n := len(p.Reviews); n > 0 && p.Reviews[n-1].Outcome == "end" {
		p.problem(ps, fmt.Sprintf("reviews[%d].outcome", n-1), "the latest review ended this policy: remove it from the policy files")
	}
	p.lastRev = last
	if p.OnReviewOverdue != "" && p.OnReviewOverdue != "keep" && p.OnReviewOverdue != "lapse" {
		p.problem(ps, "on_review_overdue", "want keep or lapse, got %q", p.OnReviewOverdue)
	}
	if !d.ReviewBy.IsZero() && !last.IsZero() && c.maxInterval > 0 && d.ReviewBy.After(last.Add(c.maxInterval)) {
		p.problem(ps, "documentation.review_by", "%s is more than %s after the latest review or decision (%s): review sooner, or document a review in reviews",
			d.ReviewBy.Format("2006-01-02"), days(c.maxInterval), last.Format("2006-01-02"))
	}
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	return d.String()
}
