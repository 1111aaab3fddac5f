package report

import (
	"context"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// RepeatedReport lists the patients and the requesters a restriction was
// applied to repeatedly: at least MinCount times in the window under the
// same exception.
type RepeatedReport struct {
	Header
	MinCount   int           `json:"min_count"`
	Patients   []RepeatGroup `json:"patients"`
	Requesters []RepeatGroup `json:"requesters"`
}

// RepeatGroup is one patient's or requester's restrictions under one
// exception.
type RepeatGroup struct {
	Patient   string    `json:"patient,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	Class     string    `json:"class,omitempty"`
	Exception string    `json:"exception,omitempty"`
	Count     int64     `json:"count"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	// Example is the latest record's id.
	Example string `json:"example"`
}

// Repeated computes the repeated-restrictions report.
func Repeated(ctx context.Context, src Source, p Params) (*RepeatedReport, error) {
	p.defaults()
	f := p.filter()
	f.Actions = restrictive
	rep := &RepeatedReport{Header: p.header(KindRepeated), MinCount: p.MinRepeat, Patients: []RepeatGroup{}, Requesters: []RepeatGroup{}}
	pats, err := src.Aggregate(ctx, store.Aggregate{Filter: f, By: []store.Dimension{store.DimPatient, store.DimException},
		MinCount: p.MinRepeat, Limit: p.Limit})
	if err != nil {
		return nil, err
	}
	for _, g := range pats {
		rep.Patients = append(rep.Patients, RepeatGroup{Patient: g.Keys[0], Exception: g.Keys[1], Count: g.Count, First: g.First, Last: g.Last, Example: g.Example})
	}
	reqs, err := src.Aggregate(ctx, store.Aggregate{Filter: f,
		By:       []store.Dimension{store.DimIssuer, store.DimSubject, store.DimClientID, store.DimClass, store.DimException},
		MinCount: p.MinRepeat, Limit: p.Limit})
	if err != nil {
		return nil, err
	}
	for _, g := range reqs {
		rep.Requesters = append(rep.Requesters, RepeatGroup{Issuer: g.Keys[0], Subject: g.Keys[1], ClientID: g.Keys[2], Class: g.Keys[3],
			Exception: g.Keys[4], Count: g.Count, First: g.First, Last: g.Last, Example: g.Example})
	}
	return rep, nil
}
