package notices

import (
	"errors"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
)

func TestOpen(t *testing.T) {
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 7, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		code string
		due  string // "" when no item opens
	}{
		{"infeasibility.segmentation", "2026-07-18T00:00:00Z"},
		{"infeasibility.uncontrollable-events", "2026-07-18T00:00:00Z"},
		{"privacy.denial-of-individual-access", "2026-08-02T00:00:00Z"},
		{"privacy.individual-request", ""},
		{"security.organizational-policy", ""},
		{"preventing-harm.individualized-determination", ""},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			e, err := cat.Lookup(tc.code)
			if err != nil {
				t.Fatal(err)
			}
			n := Open(e, received, NewCalendar(nil))
			switch {
			case tc.due == "" && n != nil:
				t.Fatalf("opened %+v", n)
			case tc.due == "":
			case n == nil:
				t.Fatal("no item opened")
			case n.DueAt.Format(time.RFC3339) != tc.due || n.Exception != tc.code || n.CFR == "" || n.Duty == "":
				t.Fatalf("item %+v", n)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	due := time.Date(2026, 7, 18, 0, 0, 0, 0, time.UTC)
	sent := due.Add(-time.Hour)
	tests := []struct {
		name string
		now  time.Time
		sent *time.Time
		want Status
	}{
		{"far", due.Add(-10 * 24 * time.Hour), nil, Pending},
		{"within horizon", due.Add(-2 * 24 * time.Hour), nil, Due},
		{"at deadline", due, nil, Overdue},
		{"past", due.Add(time.Hour), nil, Overdue},
		{"sent", due.Add(time.Hour), &sent, Sent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := &decision.NoticeItem{DueAt: due, SentAt: tc.sent}
			if got := StatusOf(n, tc.now, 3*24*time.Hour); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMarkSent(t *testing.T) {
	due := time.Date(2026, 7, 18, 0, 0, 0, 0, time.UTC)
	rec := decision.Record{ID: "01J", Flags: []decision.Flag{decision.FlagNoticeRequired},
		Notice:  &decision.NoticeItem{Exception: "infeasibility.segmentation", DueAt: due},
		Entries: []decision.EntryRef{{Kind: decision.KindDecision}}}
	at := due.Add(-time.Hour)
	got, tr, err := MarkSent(rec, at, "records office", "mail")
	if err != nil {
		t.Fatal(err)
	}
	if got.Notice.SentAt == nil || !got.Notice.SentAt.Equal(at) || got.Notice.SentBy != "records office" || got.Notice.Channel != "mail" {
		t.Fatalf("notice %+v", got.Notice)
	}
	if !got.HasFlag(decision.FlagNoticeSent) || got.Entries != nil {
		t.Fatalf("record %+v", got)
	}
	if rec.Notice.SentAt != nil || rec.HasFlag(decision.FlagNoticeSent) {
		t.Fatal("the input record was modified")
	}
	if tr.State != StateSent || tr.ID != "01J" || tr.Detail["channel"] != "mail" || tr.Reason != "" {
		t.Fatalf("transition %+v", tr)
	}
	if _, _, err := MarkSent(got, at, "x", "mail"); !errors.Is(err, ErrAlreadySent) {
		t.Fatalf("second mark: %v", err)
	}
	if _, _, err := MarkSent(rec, at, "x", "pigeon"); !errors.Is(err, ErrChannel) {
		t.Fatalf("bad channel: %v", err)
	}
	if _, _, err := MarkSent(decision.Record{ID: "x"}, at, "x", "mail"); !errors.Is(err, ErrNoNotice) {
		t.Fatalf("no notice: %v", err)
	}
	_, late, _ := MarkSent(rec, due.Add(time.Hour), "x", "email")
	if late.Reason == "" {
		t.Fatal("a late notice is not marked late")
	}
}
