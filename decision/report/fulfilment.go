package report

import (
	"context"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// FulfilmentReport is the time from request to fulfilment per requester
// class: until the response ended, or, for a request held by a delay
// policy, until the requester collected the answer.
type FulfilmentReport struct {
	Header
	// HistogramBounds are the upper bounds (inclusive) of the bins of
	// every Times.Histogram; its last bin counts the times above them.
	HistogramBounds []Millis     `json:"histogram_bounds_ms"`
	Classes         []ClassTimes `json:"classes"`
}

// FulfilmentBins are the bounds of the fulfilment histograms: a log scale
// from an ordinary answer (under 100 ms) to a month-long hold.
var FulfilmentBins = []time.Duration{100 * time.Millisecond, time.Second, 10 * time.Second, time.Minute,
	10 * time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// ClassTimes are the times of one requester class.
type ClassTimes struct {
	// Class is the requester class ("" for requesters no rule classified).
	Class string `json:"class"`
	// Answered are the requests not held: Count, p50, p95 and max.
	Answered Times `json:"answered"`
	// Held are the requests held by a delay policy and collected.
	Held Times `json:"held"`
	// Waiting counts held requests not collected yet (held, released or
	// ready); Expired those that expired uncollected.
	Waiting int64 `json:"waiting"`
	Expired int64 `json:"expired"`
}

// Times are the percentiles of a set of durations (nearest rank).
type Times struct {
	Count int64  `json:"count"`
	P50   Millis `json:"p50_ms"`
	P95   Millis `json:"p95_ms"`
	Max   Millis `json:"max_ms"`
	// Histogram counts the times in each bin of
	// FulfilmentReport.HistogramBounds, plus one above them.
	Histogram []int64 `json:"histogram"`
}

// Fulfilment computes the fulfilment report.
func Fulfilment(ctx context.Context, src Source, p Params) (*FulfilmentReport, error) {
	p.defaults()
	f := p.filter()
	stats, err := src.Durations(ctx, store.DurationQuery{Filter: f, By: store.DimClass, Permille: []int{500, 950}, Buckets: FulfilmentBins})
	if err != nil {
		return nil, err
	}
	f.Actions = []decision.Action{decision.Delay}
	states, err := src.Aggregate(ctx, store.Aggregate{Filter: f, By: []store.Dimension{store.DimClass, store.DimHoldState}})
	if err != nil {
		return nil, err
	}
	rep := &FulfilmentReport{Header: p.header(KindFulfilment)}
	for _, b := range FulfilmentBins {
		rep.HistogramBounds = append(rep.HistogramBounds, millis(b))
	}
	byClass := map[string]*ClassTimes{}
	class := func(c string) *ClassTimes {
		ct := byClass[c]
		if ct == nil {
			ct = &ClassTimes{Class: c}
			byClass[c] = ct
		}
		return ct
	}
	for _, s := range stats {
		t := Times{Count: s.Count, P50: millis(s.Percentiles[0]), P95: millis(s.Percentiles[1]), Max: millis(s.Max), Histogram: s.Histogram}
		if s.Held {
			class(s.Key).Held = t
		} else {
			class(s.Key).Answered = t
		}
	}
	for _, g := range states {
		switch decision.HoldState(g.Keys[1]) {
		case decision.HoldHeld, decision.HoldReleased, "ready":
			class(g.Keys[0]).Waiting += g.Count
		case decision.HoldExpired:
			class(g.Keys[0]).Expired += g.Count
		}
	}
	for _, c := range classOrder(byClass) {
		rep.Classes = append(rep.Classes, *byClass[c])
	}
	return rep, nil
}

// classOrder returns the classes of m in decision.Classes order, then
// any other, then the unclassified.
func classOrder[V any](m map[string]V) []string {
	var out []string
	for _, c := range decision.Classes {
		if _, ok := m[string(c)]; ok {
			out = append(out, string(c))
		}
	}
	var rest []string
	for c := range m {
		if c != "" && !decision.Class(c).Valid() {
			rest = append(rest, c)
		}
	}
	sortStrings(rest)
	out = append(out, rest...)
	if _, ok := m[""]; ok {
		out = append(out, "")
	}
	return out
}
