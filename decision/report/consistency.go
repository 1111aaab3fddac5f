package report

import (
	"context"
	"slices"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// ConsistencyReport compares, for the same resource type and the same
// data class, how often each requester class was restricted, so that a
// reviewer can see restrictions apply alike to every class
// (non-discrimination).
type ConsistencyReport struct {
	Header
	ByResourceType []ConsistencyGroup `json:"by_resource_type"`
	ByDataClass    []ConsistencyGroup `json:"by_data_class"`
}

// ConsistencyGroup is the records of one resource type or data class.
type ConsistencyGroup struct {
	Key     string      `json:"key"`
	Overall ClassRate   `json:"overall"`
	Classes []ClassRate `json:"classes"`
	// Spread is the largest difference between two classes' restriction
	// rates (0 to 1), among classes with at least MinSample records.
	Spread float64 `json:"spread"`
}

// ClassRate is one requester class's records and restrictions.
type ClassRate struct {
	Class      string `json:"class"`
	Records    int64  `json:"records"`
	Restricted int64  `json:"restricted"`
	// Rate is Restricted / Records.
	Rate     float64 `json:"rate"`
	ByAction []Count `json:"by_action,omitempty"`
}

// MinSample is the fewest records a class needs to count in a group's
// Spread.
const MinSample = 10

// Consistency computes the consistency report.
func Consistency(ctx context.Context, src Source, p Params) (*ConsistencyReport, error) {
	p.defaults()
	rep := &ConsistencyReport{Header: p.header(KindConsistency)}
	for _, d := range []struct {
		dim store.Dimension
		out *[]ConsistencyGroup
	}{{store.DimResourceType, &rep.ByResourceType}, {store.DimDataClass, &rep.ByDataClass}} {
		gs, err := src.Aggregate(ctx, store.Aggregate{Filter: p.filter(), By: []store.Dimension{d.dim, store.DimClass, store.DimAction}})
		if err != nil {
			return nil, err
		}
		*d.out = consistencyGroups(gs)
	}
	return rep, nil
}

func consistencyGroups(gs []store.Group) []ConsistencyGroup {
	type acc struct {
		rate    ClassRate
		actions tally
	}
	byKey := map[string]map[string]*acc{}
	var keys []string
	for _, g := range gs {
		key, class, action := g.Keys[0], g.Keys[1], g.Keys[2]
		if key == "" {
			key = "(none)"
		}
		m := byKey[key]
		if m == nil {
			m = map[string]*acc{}
			byKey[key] = m
			keys = append(keys, key)
		}
		a := m[class]
		if a == nil {
			a = &acc{rate: ClassRate{Class: class}, actions: tally{}}
			m[class] = a
		}
		a.rate.Records += g.Count
		var act decision.Action
		if act.UnmarshalText([]byte(action)) == nil && act.Restricts() {
			a.rate.Restricted += g.Count
			a.actions[action] += g.Count
		}
	}
	slices.Sort(keys)
	out := make([]ConsistencyGroup, 0, len(keys))
	for _, key := range keys {
		m := byKey[key]
		grp := ConsistencyGroup{Key: key, Overall: ClassRate{Class: "all"}}
		lo, hi, n := 1.0, 0.0, 0
		for _, c := range classOrder(m) {
			a := m[c]
			a.rate.Rate = rate(a.rate.Restricted, a.rate.Records)
			a.rate.ByAction = a.actions.sorted()
			grp.Classes = append(grp.Classes, a.rate)
			grp.Overall.Records += a.rate.Records
			grp.Overall.Restricted += a.rate.Restricted
			if a.rate.Records >= MinSample {
				lo, hi, n = min(lo, a.rate.Rate), max(hi, a.rate.Rate), n+1
			}
		}
		grp.Overall.Rate = rate(grp.Overall.Restricted, grp.Overall.Records)
		if n >= 2 {
			grp.Spread = hi - lo
		}
		out = append(out, grp)
	}
	return out
}
