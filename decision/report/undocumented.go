package report

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Undocumented is the undocumented report: the records flagged
// undocumented, grouped by what was refused, to whom and how, largest
// group first. Its JSON is a list of groups.
type Undocumented []UndocumentedGroup

// ReportKind implements Result.
func (Undocumented) ReportKind() Kind { return KindUndocumented }

// UndocumentedGroup is one group of the undocumented report: records alike
// in what was refused, to whom and how.
type UndocumentedGroup struct {
	UpstreamStatus int       `json:"upstream_status,omitempty"`
	Interaction    string    `json:"interaction"`
	ResourceType   string    `json:"resource_type,omitempty"`
	ClientID       string    `json:"client_id,omitempty"`
	Class          string    `json:"class,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Count          int       `json:"count"`
	First          time.Time `json:"first"`
	Last           time.Time `json:"last"`
	// Example is the id of the latest record of the group.
	Example string `json:"example"`
}

// UndocumentedGroups computes the undocumented report.
func UndocumentedGroups(ctx context.Context, src Source, p Params) (Undocumented, error) {
	p.defaults()
	f := p.filter()
	f.Flags = []decision.Flag{decision.FlagUndocumented}
	gs, err := src.Aggregate(ctx, store.Aggregate{Filter: f, By: []store.Dimension{store.DimUpstreamStatus, store.DimInteraction,
		store.DimResourceType, store.DimClientID, store.DimClass, store.DimReason}})
	if err != nil {
		return nil, err
	}
	out := make(Undocumented, 0, len(gs))
	for _, g := range gs {
		status, _ := strconv.Atoi(g.Keys[0])
		out = append(out, UndocumentedGroup{UpstreamStatus: status, Interaction: g.Keys[1], ResourceType: g.Keys[2], ClientID: g.Keys[3],
			Class: g.Keys[4], Reason: g.Keys[5], Count: int(g.Count), First: g.First, Last: g.Last, Example: g.Example})
	}
	slices.SortStableFunc(out, func(a, b UndocumentedGroup) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return b.Last.Compare(a.Last)
	})
	return out, nil
}
