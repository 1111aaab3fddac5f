package report

import (
	"context"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// ReviewsReport lists the policies of the set in force whose review is
// overdue or due within Within, and the records of the window flagged
// review-overdue or policy-lapsed, by the policies they name.
type ReviewsReport struct {
	Header
	AsOf   time.Time `json:"as_of"`
	Within Millis    `json:"within_ms"`
	// Policies are the policies due or overdue, soonest first.
	Policies []ReviewItem `json:"policies"`
	// Flagged counts, by policy id, the records of the window flagged
	// review-overdue (and, of them, policy-lapsed) that name it.
	Flagged []FlaggedPolicy `json:"flagged"`
}

// ReviewItem is a policy whose review is due or overdue.
type ReviewItem struct {
	ID       string    `json:"id"`
	Version  string    `json:"version"`
	Action   string    `json:"action"`
	ReviewBy time.Time `json:"review_by"`
	// State is "due", "overdue" or "lapsed" (overdue and no longer
	// enforced).
	State string `json:"state"`
	// File and Line locate the policy.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// FlaggedPolicy counts the flagged records naming one policy.
type FlaggedPolicy struct {
	ID            string     `json:"id"`
	ReviewOverdue int64      `json:"review_overdue"`
	Lapsed        int64      `json:"lapsed"`
	Last          *time.Time `json:"last,omitempty"`
}

// Reviews computes the reviews report.
func Reviews(ctx context.Context, src Source, p Params) (*ReviewsReport, error) {
	p.defaults()
	rep := &ReviewsReport{Header: p.header(KindReviews), AsOf: p.Now, Within: millis(p.ReviewHorizon), Policies: []ReviewItem{}, Flagged: []FlaggedPolicy{}}
	if p.Policies != nil {
		for _, it := range p.Policies.Reviews(p.Now, p.ReviewHorizon) {
			state := "due"
			switch {
			case it.Lapsed:
				state = "lapsed"
			case it.Overdue:
				state = "overdue"
			}
			file, line := it.Policy.Pos()
			rep.Policies = append(rep.Policies, ReviewItem{ID: it.Policy.ID, Version: it.Policy.Version, Action: it.Policy.Action.String(),
				ReviewBy: it.ReviewBy, State: state, File: file, Line: line})
		}
	}
	flagged := map[string]*FlaggedPolicy{}
	for _, fl := range []decision.Flag{decision.FlagReviewOverdue, decision.FlagPolicyLapsed} {
		f := p.filter()
		f.Flags = []decision.Flag{fl}
		gs, err := src.Aggregate(ctx, store.Aggregate{Filter: f, By: []store.Dimension{store.DimPolicies}})
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			for _, id := range policyIDs(g.Keys[0]) {
				fp := flagged[id]
				if fp == nil {
					fp = &FlaggedPolicy{ID: id}
					flagged[id] = fp
				}
				if fl == decision.FlagReviewOverdue {
					fp.ReviewOverdue += g.Count
					if fp.Last == nil || g.Last.After(*fp.Last) {
						t := g.Last
						fp.Last = &t
					}
				} else {
					fp.Lapsed += g.Count
				}
			}
		}
	}
	for _, fp := range flagged {
		rep.Flagged = append(rep.Flagged, *fp)
	}
	slices.SortFunc(rep.Flagged, func(a, b FlaggedPolicy) int {
		if a.ReviewOverdue != b.ReviewOverdue {
			if a.ReviewOverdue > b.ReviewOverdue {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return rep, nil
}
