package report

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy/render"
	"github.com/ehigate/ehigate/decision/store"
)

// InUseReport says, for each restriction, since when it has been in force
// (from the policy history in the journal) and how often it was applied
// in the window.
type InUseReport struct {
	Header
	Policies []PolicyUse `json:"policies"`
}

// PolicyUse is one restricting policy.
type PolicyUse struct {
	ID        string `json:"id"`
	Action    string `json:"action,omitempty"`
	Exception string `json:"exception,omitempty"`
	// Version is the version in force now, or the last one in force.
	Version string `json:"version,omitempty"`
	// Versions counts the versions ever in force.
	Versions int `json:"versions"`
	// Since is when the policy (any version) first took effect; Until
	// when it stopped, absent while it is in force.
	Since *time.Time `json:"since,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// DaysInForce counts the days it has been in force, all periods
	// together, up to the report's time.
	DaysInForce float64 `json:"days_in_force"`
	// Applied counts the records of the window naming it as restricted;
	// FirstApplied and LastApplied are the first and last of them.
	Applied      int64      `json:"applied"`
	FirstApplied *time.Time `json:"first_applied,omitempty"`
	LastApplied  *time.Time `json:"last_applied,omitempty"`
}

// InUse computes the in-use report.
func InUse(ctx context.Context, src Source, p Params) (*InUseReport, error) {
	p.defaults()
	hist, err := render.LoadHistory(ctx, src)
	if err != nil {
		return nil, err
	}
	f := p.filter()
	f.Actions = restrictive
	gs, err := src.Aggregate(ctx, store.Aggregate{Filter: f, By: []store.Dimension{store.DimPolicies, store.DimAction}})
	if err != nil {
		return nil, err
	}
	uses := map[string]*PolicyUse{}
	use := func(id string) *PolicyUse {
		u := uses[id]
		if u == nil {
			u = &PolicyUse{ID: id}
			uses[id] = u
		}
		return u
	}
	for _, id := range hist.IDs() {
		vs := hist.Versions[id]
		last := vs[len(vs)-1]
		action, exc := "", ""
		if pol, err := last.Policy(); err == nil && pol != nil {
			action, exc = pol.Action.String(), pol.Exception
		}
		if action == decision.Allow.String() {
			continue
		}
		u := use(id)
		u.Action, u.Exception, u.Version, u.Versions = action, exc, last.Version, len(vs)
		var since, until time.Time
		current := false
		var days time.Duration
		for _, v := range vs {
			if v.Current() {
				current, u.Version = true, v.Version
			}
			for _, per := range v.Periods {
				if since.IsZero() || per.From.Before(since) {
					since = per.From
				}
				end := per.To
				if end.IsZero() {
					end = p.Now
				} else if end.After(until) {
					until = end
				}
				if end.After(per.From) {
					days += end.Sub(per.From)
				}
			}
		}
		if !since.IsZero() {
			s := since.UTC()
			u.Since = &s
		}
		if !current && !until.IsZero() {
			t := until.UTC()
			u.Until = &t
		}
		u.DaysInForce = float64(int(days.Hours()/24*10)) / 10
	}
	for _, g := range gs {
		for _, id := range decidingIDs(g.Keys[0], g.Keys[1], p.Policies) {
			u := use(id)
			u.Applied += g.Count
			if u.FirstApplied == nil || g.First.Before(*u.FirstApplied) {
				t := g.First
				u.FirstApplied = &t
			}
			if u.LastApplied == nil || g.Last.After(*u.LastApplied) {
				t := g.Last
				u.LastApplied = &t
			}
		}
	}
	rep := &InUseReport{Header: p.header(KindInUse)}
	for _, u := range uses {
		if u.Action == decision.Allow.String() {
			continue
		}
		if u.Action == "" && p.Policies != nil {
			if pol := p.Policies.Lookup(u.ID); pol != nil {
				u.Action, u.Exception = pol.Action.String(), pol.Exception
			}
		}
		rep.Policies = append(rep.Policies, *u)
	}
	sort.Slice(rep.Policies, func(i, j int) bool { return rep.Policies[i].ID < rep.Policies[j].ID })
	return rep, nil
}

func sortStrings(s []string) { slices.Sort(s) }
