package report

import (
	"context"
	"slices"

	"github.com/ehigate/ehigate/decision/store"
)

// RestrictionsReport counts restrictions by action, exception and policy,
// in total and per time bucket.
type RestrictionsReport struct {
	Header
	// Bucket is the width of Buckets (day, week or month; UTC).
	Bucket store.Bucket `json:"bucket"`
	// Records counts every record of the window, Restrictions those that
	// restricted access.
	Records      int64   `json:"records"`
	Restrictions int64   `json:"restrictions"`
	ByAction     []Count `json:"by_action"`
	ByException  []Count `json:"by_exception"`
	// ByPolicy counts the restrictions each policy decided: the record
	// names it and, when the set in force knows it, with the record's
	// action (patients' Consents as "Consent/*").
	ByPolicy []Count        `json:"by_policy"`
	Buckets  []BucketCounts `json:"buckets"`
}

// BucketCounts are the restrictions of one time bucket.
type BucketCounts struct {
	// Start is the bucket's first day (2006-01-02, UTC).
	Start       string  `json:"start"`
	Total       int64   `json:"total"`
	ByAction    []Count `json:"by_action"`
	ByException []Count `json:"by_exception"`
	ByPolicy    []Count `json:"by_policy"`
}

// Restrictions computes the restrictions report.
func Restrictions(ctx context.Context, src Source, p Params) (*RestrictionsReport, error) {
	p.defaults()
	f := p.filter()
	all, err := src.Aggregate(ctx, store.Aggregate{Filter: f})
	if err != nil {
		return nil, err
	}
	f.Actions = restrictive
	gs, err := src.Aggregate(ctx, store.Aggregate{Filter: f, Bucket: p.Bucket,
		By: []store.Dimension{store.DimBucket, store.DimAction, store.DimException, store.DimPolicies}})
	if err != nil {
		return nil, err
	}
	rep := &RestrictionsReport{Header: p.header(KindRestrictions), Bucket: p.Bucket}
	if len(all) == 1 {
		rep.Records = all[0].Count
	}
	type tallies struct{ action, exception, policy tally }
	total := tallies{tally{}, tally{}, tally{}}
	buckets := map[string]*tallies{}
	var starts []string
	totals := map[string]int64{}
	for _, g := range gs {
		start, action, exc, pols := g.Keys[0], g.Keys[1], g.Keys[2], g.Keys[3]
		if exc == "" {
			exc = "(none)"
		}
		b := buckets[start]
		if b == nil {
			b = &tallies{tally{}, tally{}, tally{}}
			buckets[start] = b
			starts = append(starts, start)
		}
		rep.Restrictions += g.Count
		totals[start] += g.Count
		for _, t := range []*tallies{&total, b} {
			t.action[action] += g.Count
			t.exception[exc] += g.Count
			for _, id := range decidingIDs(pols, action, p.Policies) {
				t.policy[id] += g.Count
			}
		}
	}
	slices.Sort(starts)
	rep.ByAction, rep.ByException, rep.ByPolicy = total.action.sorted(), total.exception.sorted(), total.policy.sorted()
	rep.Buckets = make([]BucketCounts, 0, len(starts))
	for _, s := range starts {
		b := buckets[s]
		rep.Buckets = append(rep.Buckets, BucketCounts{Start: s, Total: totals[s],
			ByAction: b.action.sorted(), ByException: b.exception.sorted(), ByPolicy: b.policy.sorted()})
	}
	return rep, nil
}
