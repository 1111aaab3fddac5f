package engine

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/consent"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/fhir"
)

// Options configure an Engine.
type Options struct {
	// Calendar counts the business days of notice deadlines (default: US
	// federal holidays, dates taken in UTC).
	Calendar *notices.Calendar
}

// Engine decides requests under a policy set. It is safe for concurrent
// use.
type Engine struct {
	cur      atomic.Pointer[state]
	consents atomic.Pointer[consent.Set]
	cal      *notices.Calendar
}

// state is one compiled policy set.
type state struct {
	set   *policy.Set
	hash  string
	rules []rule
}

// New returns an engine deciding under set.
func New(set *policy.Set, opts Options) *Engine {
	e := &Engine{cal: opts.Calendar}
	if e.cal == nil {
		e.cal = notices.NewCalendar(nil)
	}
	e.Swap(set)
	return e
}

// Swap makes set the policy set for decisions that start afterwards;
// decisions in progress finish under the set they started with.
func (e *Engine) Swap(set *policy.Set) {
	st := &state{set: set, hash: set.Hash()}
	for _, p := range set.Policies() {
		st.rules = append(st.rules, compileRule(set, p))
	}
	e.cur.Store(st)
}

// Set returns the policy set in force.
func (e *Engine) Set() *policy.Set { return e.cur.Load().set }

// Decide decides one request received at at. It never fails: a policy
// whose condition cannot be evaluated is not in play.
func (e *Engine) Decide(_ context.Context, req *fhir.Request, who *decision.Requester, at time.Time) decision.Decision {
	st := e.cur.Load()
	d := decision.Decision{Action: decision.Allow, PolicySet: st.hash, Disclose: true}
	if req == nil {
		req = &fhir.Request{}
	}
	if who == nil {
		who = &decision.Requester{}
	}
	var vars *policy.RequestVars
	var deciding *rule
	var redacts []*rule
	var inPlayBuf [32]inPlay
	matched := inPlayBuf[:0]
	for i := range st.rules {
		r := &st.rules[i]
		if !r.matchRequest(req, who, at) {
			continue
		}
		if c := r.p.When(); c != nil {
			if vars == nil {
				vars = &policy.RequestVars{Req: req, Who: who, Now: at}
			}
			if ok, err := c.Eval(vars); err != nil || !ok {
				continue
			}
		}
		m := inPlay{r: r}
		if r.p.ReviewOverdue(at) {
			m.overdue = true
			addFlag(&d.Flags, decision.FlagReviewOverdue)
			if r.p.Lapses() {
				m.lapsed = true
				addFlag(&d.Flags, decision.FlagPolicyLapsed)
				matched = append(matched, m)
				continue
			}
		}
		matched = append(matched, m)
		if r.limit != nil {
			d.Limits = append(d.Limits, r.limit)
		}
		switch {
		case r.action == decision.Redact:
			redacts = append(redacts, r)
		case deciding == nil || r.action.Stronger(deciding.action):
			deciding = r
		}
	}
	if len(matched) > 0 {
		d.Policies = make([]decision.PolicyRef, len(matched))
		for i, m := range matched {
			d.Policies[i] = m.r.ref
			d.Policies[i].ReviewOverdue, d.Policies[i].Lapsed = m.overdue, m.lapsed
		}
	}
	if deciding != nil && deciding.action != decision.Allow {
		d.Action = deciding.action
		d.Exception = deciding.exc
		d.Notice = deciding.notice
		if entry := deciding.p.Entry(); entry != nil {
			d.Duty = notices.Open(entry, at, e.cal)
		}
		switch d.Action {
		case decision.Throttle:
			d.Limit = deciding.limit
		case decision.Delay:
			dl := *deciding.delay
			if dl.Form == "embargo" {
				dl.Embargoed = deciding.embargo(at)
			}
			d.Delay = &dl
		}
	}
	if len(redacts) > 0 && d.Action != decision.Deny {
		if d.Action == decision.Allow {
			d.Action = decision.Redact
			d.Exception = redacts[0].exc
			d.Notice = redacts[0].notice
		}
		d.Redactions = make([]decision.Redaction, len(redacts))
		d.Disclose = false
		for i, r := range redacts {
			rd := decision.Redaction{Policy: r.p.ID, Exception: r.exc, Notice: r.notice, Disclose: r.p.Disclose()}
			if entry := r.p.Entry(); entry != nil {
				rd.Duty = notices.Open(entry, at, e.cal)
			}
			d.Redactions[i] = rd
			d.Disclose = d.Disclose || rd.Disclose
		}
		d.Withhold = withholder(redacts, at)
	}
	if cs := e.consents.Load(); cs.Len() > 0 {
		e.applyConsents(&d, st, cs, req, who, at)
	}
	return d
}

// inPlay is a policy whose request-level criteria matched.
type inPlay struct {
	r               *rule
	overdue, lapsed bool
}

func addFlag(fs *[]decision.Flag, f decision.Flag) {
	for _, g := range *fs {
		if g == f {
			return
		}
	}
	*fs = append(*fs, f)
}
