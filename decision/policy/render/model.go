package render

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
)

// DueSoon is how close a review date must be to be marked due.
const DueSoon = 30 * 24 * time.Hour

// Input is what the written policy is made from.
type Input struct {
	// Title heads the document (default DefaultTitle).
	Title string
	// Scope says what the document covers, e.g. the policy files or the
	// window of an audit package (optional).
	Scope string
	// Policies are the policies to document, in order: restrictions are
	// written in full, allow policies listed.
	Policies []Item
	// History is the version history read from the journal (nil when
	// none was read).
	History *History
	// Catalog is the exception catalog: names, CFR cites, conditions.
	Catalog *exceptions.Catalog
	// AsOf is the date reviews are assessed at.
	AsOf time.Time
	// PolicySet is the hash of the set documented (optional).
	PolicySet string
	// RelativeTo, when set, makes policy file paths relative to it.
	RelativeTo string
}

// Item is one policy to document.
type Item struct {
	Policy *policy.Policy
	// SHA256 is the hash of its canonical text (default: the loaded
	// policy's; set it for a policy decoded from a journal text).
	SHA256 string
}

// Items returns the policies of a loaded set as items.
func Items(set *policy.Set) []Item {
	out := make([]Item, len(set.Policies()))
	for i, p := range set.Policies() {
		out[i] = Item{Policy: p, SHA256: p.SHA256()}
	}
	return out
}

// DefaultTitle is the document's default title.
const DefaultTitle = "Written policy: documented restrictions of access to electronic health information"

// document is the view both renderers print.
type document struct {
	Title, Scope, AsOf, PolicySet, Catalog string
	Restrictions                           []*entry
	Allows                                 []*entry
	Retired                                []retired
	Overdue                                int
}

// entry is one policy as written out.
type entry struct {
	ID, Version, Description, Action, Source, SHA256 string
	Exception                                        exceptionView
	Documented                                       []pair // documentation.conditions with their catalog labels
	Rationale, EHIScope, MinimumNecessary            string
	Decider, DecidedAt                               string
	Evidence                                         []string
	Match                                            []pair
	Parameters                                       []pair
	Notice                                           []pair
	Reviews                                          []review
	ReviewBy, ReviewState                            string
	Overdue, DueSoon                                 bool
	History                                          []historyRow
}

type exceptionView struct {
	Code, Title, CFR, Status, Parent, ParentCFR, Duty string
	Requires                                          []pair // the regulatory conditions (cite, text)
}

type pair struct{ Name, Value string }

type review struct{ At, By, Outcome, Notes string }

type historyRow struct {
	Version, SHA256, From, To string
	Documented                bool // the version documented here
}

type retired struct{ ID, Version, Until string }

// build turns the input into the document.
func build(in Input) *document {
	d := &document{Title: in.Title, Scope: in.Scope, AsOf: date(in.AsOf), PolicySet: in.PolicySet}
	if d.Title == "" {
		d.Title = DefaultTitle
	}
	if in.Catalog != nil {
		d.Catalog = in.Catalog.Version()
	}
	seen := map[string]bool{}
	for _, it := range in.Policies {
		p := it.Policy
		seen[p.ID] = true
		e := in.entry(p, cmp.Or(it.SHA256, p.SHA256()))
		if p.Action.Restricts() {
			d.Restrictions = append(d.Restrictions, e)
			if e.Overdue {
				d.Overdue++
			}
		} else {
			d.Allows = append(d.Allows, e)
		}
	}
	if in.History != nil {
		for _, id := range in.History.IDs() {
			vs := in.History.Versions[id]
			last := vs[len(vs)-1]
			for _, v := range vs {
				if v.Periods[len(v.Periods)-1].From.After(last.Periods[len(last.Periods)-1].From) {
					last = v
				}
			}
			if seen[id] || last.Current() {
				continue
			}
			d.Retired = append(d.Retired, retired{ID: id, Version: last.Version, Until: date(last.Periods[len(last.Periods)-1].To)})
		}
	}
	return d
}

func (in Input) entry(p *policy.Policy, sha string) *entry {
	e := &entry{
		ID: p.ID, Version: p.Version, Description: p.Description, Action: p.Action.String(), SHA256: sha,
		Rationale: p.Documentation.Rationale, EHIScope: p.Documentation.EHIScope, MinimumNecessary: p.Documentation.MinimumNecessary,
		DecidedAt: date(p.Documentation.DecidedAt), Evidence: p.Documentation.Evidence,
	}
	if file, line := p.Pos(); file != "" {
		if in.RelativeTo != "" {
			if rel, err := filepath.Rel(in.RelativeTo, file); err == nil {
				file = rel
			}
		}
		e.Source = fmt.Sprintf("%s:%d", filepath.ToSlash(file), line)
	}
	dec := p.Documentation.DecidedBy
	e.Decider = strings.Join(nonEmpty(dec.Name, dec.Role, dec.Credentials), ", ")
	e.Exception = in.exception(p.Exception)
	e.Documented = in.documented(p)
	e.Match = match(p)
	e.Parameters = parameters(p)
	n := p.Notice
	e.Notice = pairs("Message", n.Message, "Next step", n.NextStep, "Contact", n.Contact, "Alternative manner", n.AlternativeManner)
	if n.Status == 404 {
		e.Notice = append(e.Notice, pair{"Answered", "404 Not Found: the existence of the records is not revealed"})
	}
	if r := p.Documentation.ConcealExistenceReason; r != "" {
		e.Notice = append(e.Notice, pair{"Why existence is concealed", r})
	}
	if p.Action.String() == "redact" {
		if p.DiscloseWithholding != nil && !*p.DiscloseWithholding {
			e.Notice = append(e.Notice, pair{"Withholding disclosed", "no: " + p.Documentation.NondisclosureReason})
		} else {
			e.Notice = append(e.Notice, pair{"Withholding disclosed", "yes, in the response"})
		}
	}
	for _, r := range p.Reviews {
		e.Reviews = append(e.Reviews, review{At: date(r.At), By: r.By, Outcome: r.Outcome, Notes: r.Notes})
	}
	if rb := p.Documentation.ReviewBy; !rb.IsZero() {
		e.ReviewBy = date(rb)
		switch {
		case !in.AsOf.IsZero() && !in.AsOf.Before(rb):
			e.Overdue, e.ReviewState = true, "OVERDUE"
			if p.OnReviewOverdue == "lapse" {
				e.ReviewState = "OVERDUE: the policy has lapsed and is no longer enforced"
			}
		case !in.AsOf.IsZero() && rb.Sub(in.AsOf) <= DueSoon:
			e.DueSoon, e.ReviewState = true, "due within 30 days"
		}
	}
	if in.History != nil {
		for _, v := range in.History.Versions[p.ID] {
			for _, per := range v.Periods {
				to := "in force"
				if !per.To.IsZero() {
					to = date(per.To)
				}
				e.History = append(e.History, historyRow{Version: v.Version, SHA256: short(v.SHA256), From: date(per.From), To: to,
					Documented: v.Version == p.Version && v.SHA256 == sha})
			}
		}
		slices.SortStableFunc(e.History, func(a, b historyRow) int { return strings.Compare(a.From, b.From) })
	}
	return e
}

// exception describes a cited code from the catalog.
func (in Input) exception(code string) exceptionView {
	x := exceptionView{Code: code}
	if code == "" || in.Catalog == nil {
		return x
	}
	ent, err := in.Catalog.Lookup(code)
	if err != nil {
		x.Title = "not in catalog " + in.Catalog.Version()
		return x
	}
	x.Title, x.CFR, x.Status = ent.Title, ent.CFR, ent.EffectiveStatus()
	if par := ent.Parent(); par != nil {
		x.Parent, x.ParentCFR = par.Title, par.CFR
		for _, c := range par.Conditions {
			x.Requires = append(x.Requires, pair{c.CFR, c.Text})
		}
	}
	for _, c := range ent.Conditions {
		x.Requires = append(x.Requires, pair{c.CFR, c.Text})
	}
	if duty := ent.Duty(); duty != nil {
		x.Duty = duty.Duty
		if duty.Deadline != nil {
			x.Duty += " Deadline: " + duty.Deadline.String() + " from receipt of the request."
		}
	}
	return x
}

// documented lists documentation.conditions, labelled by the catalog's
// field texts, in the catalog's order then by name.
func (in Input) documented(p *policy.Policy) []pair {
	conds := p.Documentation.Conditions
	if len(conds) == 0 {
		return nil
	}
	var fields []exceptions.Field
	if in.Catalog != nil && p.Exception != "" {
		if ent, err := in.Catalog.Lookup(p.Exception); err == nil {
			fields = ent.Fields()
		}
	}
	var out []pair
	done := map[string]bool{}
	for _, f := range fields {
		if v, ok := conds[f.Name]; ok {
			out = append(out, pair{f.Name + " (" + f.Text + ")", value(v)})
			done[f.Name] = true
		}
	}
	names := make([]string, 0, len(conds))
	for k := range conds {
		if !done[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		out = append(out, pair{k, value(conds[k])})
	}
	return out
}
