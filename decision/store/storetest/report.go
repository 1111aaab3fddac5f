package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
)

// ReportStart is the time of the first of ReportRecords: Sunday 1 March
// 2026, noon UTC.
var ReportStart = t0

// ReportRecords is a known data set for reports: eight completed records
// (r1..r8) over March and early April 2026, of three requester classes,
// with a denial whose notice is open, one whose notice was sent late, a
// redaction, two held requests (one collected two hours later, one still
// held) and two undocumented upstream refusals.
func ReportRecords() []*decision.Record {
	day := 24 * time.Hour
	done := func(r *decision.Record, after time.Duration) {
		at := r.ReceivedAt.Add(after)
		r.FulfilledAt = &at
		if r.Status == 0 {
			r.Status = 200
		}
	}
	priv := &decision.ExceptionRef{Code: "privacy.individual-request", CFR: "45 CFR 171.202(e)"}
	infeas := &decision.ExceptionRef{Code: "infeasibility.segmentation", CFR: "45 CFR 171.204(a)(2)"}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ptr := func(t time.Time) *time.Time { return &t }
	patient := decision.Requester{Subject: "pat-1", ClientID: "portal", Issuer: "https://idp", Class: decision.ClassPatient}
	provider := decision.Requester{Subject: "dr-1", ClientID: "ehr-app", Issuer: "https://idp", Class: decision.ClassProvider}
	app := decision.Requester{Subject: "svc-1", ClientID: "third-app", Issuer: "https://idp", Class: decision.ClassApp}
	obs := func(r *decision.Record) {
		r.Interaction, r.ResourceType, r.Path = "search-type", "Observation", "/fhir/Observation"
	}
	docs := func(r *decision.Record) {
		r.Interaction, r.ResourceType, r.Path = "read", "DocumentReference", "/fhir/DocumentReference/d1"
	}
	return []*decision.Record{
		Record("r1", at(0), decision.Allow, obs, func(r *decision.Record) {
			r.Requester, r.Patients, r.DataClasses = patient, []string{"p1"}, []string{"Laboratory"}
			done(r, 100*time.Millisecond)
		}),
		Record("r2", at(time.Hour), decision.Deny, obs, func(r *decision.Record) {
			r.Requester, r.Patients, r.DataClasses = patient, []string{"p1"}, []string{"Laboratory", "Vital Signs"}
			r.Exception, r.Status = priv, 403
			r.Policies = []decision.PolicyRef{{ID: "no-share", Version: "1", Action: decision.Deny, Exception: priv.Code}}
			r.Flags = []decision.Flag{decision.FlagNoticeRequired}
			r.Notice = &decision.NoticeItem{Exception: priv.Code, Duty: "tell the requester", DueAt: at(10 * day)}
			done(r, 20*time.Millisecond)
		}),
		Record("r3", at(day), decision.Deny, obs, func(r *decision.Record) {
			r.Requester, r.Patients, r.DataClasses = provider, []string{"p1", "p2"}, []string{"Laboratory"}
			r.Exception, r.Status = priv, 403
			r.Policies = []decision.PolicyRef{{ID: "no-share", Version: "1", Action: decision.Deny, Exception: priv.Code}}
			r.Flags = []decision.Flag{decision.FlagNoticeRequired, decision.FlagNoticeSent}
			r.Notice = &decision.NoticeItem{Exception: priv.Code, DueAt: at(2 * day), SentAt: ptr(at(3 * day)), SentBy: "him", Channel: "mail"}
			done(r, 30*time.Millisecond)
		}),
		Record("r4", at(8*day), decision.Redact, docs, func(r *decision.Record) {
			r.Requester, r.Patients, r.DataClasses = provider, []string{"p2"}, []string{"Clinical Notes"}
			r.Exception = infeas
			r.Policies = []decision.PolicyRef{{ID: "notes-redact", Version: "2", Action: decision.Redact, Exception: infeas.Code}, {ID: "allow-portal", Version: "1", Action: decision.Allow}}
			r.Withheld = []decision.Withheld{{Type: "DocumentReference", Count: 1, Policy: "notes-redact"}}
			done(r, 50*time.Millisecond)
		}),
		Record("r5", at(9*day), decision.Delay, docs, func(r *decision.Record) {
			r.Requester, r.Patients = patient, []string{"p1"}
			r.Policies = []decision.PolicyRef{{ID: "notes-hold", Version: "1", Action: decision.Delay}}
			r.Status = 202
			r.Hold = &decision.HoldRef{ID: "h1", State: decision.HoldFulfilled, ReleasedBy: "dr-1", ReleasedAt: ptr(at(9*day + time.Hour)), CollectedAt: ptr(at(9*day + 2*time.Hour))}
			done(r, 5*time.Millisecond)
		}),
		Record("r6", at(10*day), decision.Delay, docs, func(r *decision.Record) {
			r.Requester, r.Patients = patient, []string{"p3"}
			r.Policies = []decision.PolicyRef{{ID: "notes-hold", Version: "1", Action: decision.Delay}}
			r.Status = 202
			r.Hold = &decision.HoldRef{ID: "h2", State: decision.HoldHeld}
			done(r, 5*time.Millisecond)
		}),
		Record("r7", at(31*day), decision.Allow, obs, func(r *decision.Record) {
			r.Requester = app
			r.UpstreamStatus, r.Status, r.Reason = 403, 403, "upstream-refusal"
			r.Flags = []decision.Flag{decision.FlagUpstreamRestriction, decision.FlagUndocumented}
			done(r, 10*time.Millisecond)
		}),
		Record("r8", at(32*day), decision.Allow, obs, func(r *decision.Record) {
			r.Requester = app
			r.UpstreamStatus, r.Status, r.Reason = 403, 403, "upstream-refusal"
			r.Policies = []decision.PolicyRef{{ID: "old-policy", Version: "1", Action: decision.Allow, ReviewOverdue: true}}
			r.Flags = []decision.Flag{decision.FlagUpstreamRestriction, decision.FlagUndocumented, decision.FlagReviewOverdue}
			done(r, 40*time.Millisecond)
		}),
	}
}

// AppendRecords stores records as decision entries of a new chain.
func AppendRecords(t testing.TB, st store.Store, chain string, recs ...*decision.Record) {
	t.Helper()
	var items []store.Item
	prev := journal.Genesis
	for i, r := range recs {
		e := decision.Entry{Chain: chain, Seq: uint64(i + 1), Kind: decision.KindDecision, RecordID: r.ID, At: r.ReceivedAt,
			Payload: []byte(fmt.Sprintf(`{"id":%q}`, r.ID)), PrevHash: prev}
		e.Hash = journal.Hash(&e)
		prev = e.Hash
		items = append(items, store.Item{Entry: e, Record: r})
	}
	if err := st.Append(context.Background(), items); err != nil {
		t.Fatal(err)
	}
}

func testAggregate(t *testing.T, st store.Store) {
	ctx := context.Background()
	AppendRecords(t, st, "rep", ReportRecords()...)
	restrict := []decision.Action{decision.Deny, decision.Delay, decision.Throttle, decision.Redact}
	day := 24 * time.Hour
	tests := []struct {
		name string
		q    store.Aggregate
		// want lists "key|key=count" per group, in order.
		want string
	}{
		{"by action", store.Aggregate{By: []store.Dimension{store.DimAction}}, "allow=3 delay=2 deny=2 redact=1"},
		{"no dimension", store.Aggregate{}, "=8"},
		{"restrictions by month", store.Aggregate{By: []store.Dimension{store.DimBucket}, Bucket: store.Month, Filter: store.ReportFilter{Actions: restrict}}, "2026-03-01=5"},
		{"restrictions by week, Monday first", store.Aggregate{By: []store.Dimension{store.DimBucket}, Bucket: store.Week, Filter: store.ReportFilter{Actions: restrict}},
			"2026-03-09=3 2026-02-23=1 2026-03-02=1"},
		{"by day in a window", store.Aggregate{By: []store.Dimension{store.DimBucket, store.DimAction}, Filter: store.ReportFilter{From: t0.Add(day), To: t0.Add(9 * day)}},
			"2026-03-02|deny=1 2026-03-09|redact=1"},
		{"restrictions by exception and policies", store.Aggregate{By: []store.Dimension{store.DimException, store.DimPolicies}, Filter: store.ReportFilter{Actions: restrict}},
			"|,notes-hold,=2 privacy.individual-request|,no-share,=2 infeasibility.segmentation|,notes-redact,allow-portal,=1"},
		{"repeated restrictions by patient", store.Aggregate{By: []store.Dimension{store.DimPatient}, MinCount: 2, Filter: store.ReportFilter{Actions: restrict}}, "p1=3 p2=2"},
		{"top requester", store.Aggregate{By: []store.Dimension{store.DimIssuer, store.DimSubject}, Limit: 1, Filter: store.ReportFilter{Actions: restrict}}, "https://idp|pat-1=3"},
		{"class and type", store.Aggregate{By: []store.Dimension{store.DimResourceType, store.DimClass, store.DimAction}},
			"DocumentReference|patient|delay=2 Observation|app|allow=2 DocumentReference|provider|redact=1 Observation|patient|allow=1 Observation|patient|deny=1 Observation|provider|deny=1"},
		{"data classes", store.Aggregate{By: []store.Dimension{store.DimDataClass, store.DimClass}},
			"Laboratory|patient=2 Clinical Notes|provider=1 Laboratory|provider=1 Vital Signs|patient=1"},
		{"undocumented", store.Aggregate{By: []store.Dimension{store.DimUpstreamStatus, store.DimReason, store.DimInteraction}, Filter: store.ReportFilter{Flags: []decision.Flag{decision.FlagUndocumented}}},
			"403|upstream-refusal|search-type=2"},
		{"open notices", store.Aggregate{By: []store.Dimension{store.DimID, store.DimNoticeDueAt}, Filter: store.ReportFilter{Flags: []decision.Flag{decision.FlagNoticeRequired}, NotFlags: []decision.Flag{decision.FlagNoticeSent}}},
			"r2|2026-03-11T12:00:00Z=1"},
		{"notices sent", store.Aggregate{By: []store.Dimension{store.DimNoticeSent}, Filter: store.ReportFilter{Flags: []decision.Flag{decision.FlagNoticeRequired}}}, "=1 late=1"},
		{"hold states", store.Aggregate{By: []store.Dimension{store.DimHoldState}, Filter: store.ReportFilter{Actions: []decision.Action{decision.Delay}}}, "fulfilled=1 held=1"},
		{"patient filter", store.Aggregate{By: []store.Dimension{store.DimAction}, Filter: store.ReportFilter{Patient: "p2"}}, "deny=1 redact=1"},
		{"patient filter and dimension", store.Aggregate{By: []store.Dimension{store.DimPatient}, Filter: store.ReportFilter{Patient: "p2"}}, "p2=2"},
		{"policy filter, not prefix", store.Aggregate{Filter: store.ReportFilter{Policy: "no-share"}}, "=2"},
		{"subject filter", store.Aggregate{By: []store.Dimension{store.DimAction}, Filter: store.ReportFilter{Subject: "dr-1"}}, "deny=1 redact=1"},
		{"review overdue", store.Aggregate{By: []store.Dimension{store.DimPolicies}, Filter: store.ReportFilter{Flags: []decision.Flag{decision.FlagReviewOverdue}}}, ",old-policy,=1"},
		{"not spooled", store.Aggregate{Filter: store.ReportFilter{NotFlags: []decision.Flag{decision.FlagSpooled}}}, "=8"},
		{"nothing", store.Aggregate{By: []store.Dimension{store.DimAction}, Filter: store.ReportFilter{Patient: "nobody"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs, err := st.Aggregate(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range gs {
				got = append(got, fmt.Sprintf("%s=%d", strings.Join(g.Keys, "|"), g.Count))
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
		})
	}
	gs, err := st.Aggregate(ctx, store.Aggregate{Filter: store.ReportFilter{Flags: []decision.Flag{decision.FlagUndocumented}}})
	if err != nil || len(gs) != 1 {
		t.Fatalf("undocumented: %v %v", gs, err)
	}
	if g := gs[0]; !g.First.Equal(t0.Add(31*day)) || !g.Last.Equal(t0.Add(32*day)) || g.Example != "r8" {
		t.Errorf("first %s, last %s, example %s; want r7's and r8's times and r8", g.First, g.Last, g.Example)
	}
	for _, bad := range []store.Aggregate{{By: []store.Dimension{"nope"}}, {By: []store.Dimension{store.DimBucket}, Bucket: "year"}} {
		if _, err := st.Aggregate(ctx, bad); !errors.Is(err, store.ErrBadAggregate) {
			t.Errorf("%+v: err %v, want ErrBadAggregate", bad, err)
		}
	}
}

func testDurations(t *testing.T, st store.Store) {
	ctx := context.Background()
	AppendRecords(t, st, "dur", ReportRecords()...)
	ms := time.Millisecond
	stats, err := st.Durations(ctx, store.DurationQuery{By: store.DimClass, Permille: []int{500, 950}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stats {
		got = append(got, fmt.Sprintf("%s/%v n=%d %v %v max %v", s.Key, s.Held, s.Count, s.Percentiles[0], s.Percentiles[1], s.Max))
	}
	want := []string{
		fmt.Sprintf("app/false n=2 %v %v max %v", 10*ms, 40*ms, 40*ms),
		fmt.Sprintf("patient/false n=2 %v %v max %v", 20*ms, 100*ms, 100*ms),
		// The held request collected two hours later; the one still held has no duration.
		fmt.Sprintf("patient/true n=1 %v %v max %v", 2*time.Hour, 2*time.Hour, 2*time.Hour),
		fmt.Sprintf("provider/false n=2 %v %v max %v", 30*ms, 50*ms, 50*ms),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	one, err := st.Durations(ctx, store.DurationQuery{Permille: []int{1000}, Filter: store.ReportFilter{Actions: []decision.Action{decision.Deny}}})
	if err != nil || len(one) != 1 || one[0].Count != 2 || one[0].Percentiles[0] != 30*ms {
		t.Errorf("denials: %+v %v", one, err)
	}
	if _, err := st.Durations(ctx, store.DurationQuery{By: store.DimPatient}); !errors.Is(err, store.ErrBadAggregate) {
		t.Errorf("durations by patient: %v", err)
	}
	// A histogram: bounds are inclusive; the last count is above them.
	hist, err := st.Durations(ctx, store.DurationQuery{By: store.DimClass, Buckets: []time.Duration{20 * ms, 50 * ms, time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, s := range hist {
		got = append(got, fmt.Sprintf("%s/%v %v", s.Key, s.Held, s.Histogram))
	}
	want = []string{"app/false [1 1 0 0]", "patient/false [1 0 1 0]", "patient/true [0 0 0 1]", "provider/false [0 2 0 0]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("histograms:\ngot  %v\nwant %v", got, want)
	}
	for _, bad := range [][]time.Duration{{50 * ms, 20 * ms}, {ms, ms}, {-ms}} {
		if _, err := st.Durations(ctx, store.DurationQuery{Buckets: bad}); !errors.Is(err, store.ErrBadAggregate) {
			t.Errorf("buckets %v: %v", bad, err)
		}
	}
}
