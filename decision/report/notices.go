package report

import (
	"context"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/store"
)

// NoticesReport lists the written responses restrictions oblige that are
// overdue or due within Within, and counts those sent on time and late.
type NoticesReport struct {
	Header
	AsOf   time.Time `json:"as_of"`
	Within Millis    `json:"within_ms"`
	// Items are the open items overdue or due, soonest due first.
	Items []NoticeItem `json:"items"`
	// Overdue, Due and Pending count the open items by status; SentOnTime
	// and SentLate the items marked sent.
	Overdue    int64 `json:"overdue"`
	Due        int64 `json:"due"`
	Pending    int64 `json:"pending"`
	SentOnTime int64 `json:"sent_on_time"`
	SentLate   int64 `json:"sent_late"`
}

// NoticeItem is one open notice item.
type NoticeItem struct {
	// Record is the decision id.
	Record     string    `json:"record"`
	ReceivedAt time.Time `json:"received_at"`
	DueAt      time.Time `json:"due_at"`
	// Status is "due" or "overdue".
	Status    string `json:"status"`
	Exception string `json:"exception,omitempty"`
	Class     string `json:"class,omitempty"`
	// Requester is the requester's subject, or client id without one.
	Requester string `json:"requester,omitempty"`
}

// Notices computes the notices report.
func Notices(ctx context.Context, src Source, p Params) (*NoticesReport, error) {
	p.defaults()
	rep := &NoticesReport{Header: p.header(KindNotices), AsOf: p.Now, Within: millis(p.NoticeHorizon), Items: []NoticeItem{}}
	f := p.filter()
	f.Flags = []decision.Flag{decision.FlagNoticeRequired}
	sent, err := src.Aggregate(ctx, store.Aggregate{Filter: f, By: []store.Dimension{store.DimNoticeSent}})
	if err != nil {
		return nil, err
	}
	for _, g := range sent {
		switch g.Keys[0] {
		case "on-time":
			rep.SentOnTime += g.Count
		case "late":
			rep.SentLate += g.Count
		}
	}
	f.NotFlags = []decision.Flag{decision.FlagNoticeSent}
	open, err := src.Aggregate(ctx, store.Aggregate{Filter: f, By: []store.Dimension{store.DimID, store.DimNoticeDueAt,
		store.DimException, store.DimClass, store.DimSubject, store.DimClientID}})
	if err != nil {
		return nil, err
	}
	for _, g := range open {
		due, err := time.Parse(time.RFC3339Nano, g.Keys[1])
		if err != nil {
			continue // no notice object: nothing is owed
		}
		n := decision.NoticeItem{DueAt: due}
		switch notices.StatusOf(&n, p.Now, p.NoticeHorizon) {
		case notices.Overdue:
			rep.Overdue++
			rep.Items = append(rep.Items, noticeItem(g, due, "overdue"))
		case notices.Due:
			rep.Due++
			rep.Items = append(rep.Items, noticeItem(g, due, "due"))
		default:
			rep.Pending++
		}
	}
	slices.SortStableFunc(rep.Items, func(a, b NoticeItem) int { return a.DueAt.Compare(b.DueAt) })
	return rep, nil
}

func noticeItem(g store.Group, due time.Time, status string) NoticeItem {
	who := g.Keys[4]
	if who == "" {
		who = g.Keys[5]
	}
	return NoticeItem{Record: g.Keys[0], ReceivedAt: g.First, DueAt: due.UTC(), Status: status, Exception: g.Keys[2], Class: g.Keys[3], Requester: who}
}
