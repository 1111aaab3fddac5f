package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/decision/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture is the known data set of storetest.ReportRecords in a SQLite
// store, with the policy set of testdata/policies.yaml journaled as in
// force from 1 February 2026.
type fixture struct {
	st  store.Store
	set *policy.Set
	p   Params
}

var oneDay = 24 * time.Hour

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Load([]string{"testdata/policies.yaml"}, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	storetest.AppendRecords(t, st, "records", storetest.ReportRecords()...)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	w, err := journal.Open(ctx, st, journal.Options{Chain: "policies", Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, decision.KindPolicySet, policy.RecordID(set.Hash()), set.Entry("ps1", at), nil); err != nil {
		t.Fatal(err)
	}
	ptr := set.Entry("ps2", at)
	ptr.Texts = nil
	if _, err := w.Append(ctx, decision.KindPolicySet, policy.LatestRecordID, ptr, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	start := storetest.ReportStart
	return &fixture{st: st, set: set, p: Params{Now: start.Add(45 * oneDay), Policies: set, MinRepeat: 2}}
}

func TestRestrictions(t *testing.T) {
	f := newFixture(t)
	p := f.p
	p.Bucket = store.Week
	rep, err := Restrictions(context.Background(), f.st, p)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "records", rep.Records, int64(8))
	check(t, "restrictions", rep.Restrictions, int64(5))
	check(t, "by action", counts(rep.ByAction), "delay=2 deny=2 redact=1")
	check(t, "by exception", counts(rep.ByException), "(none)=2 privacy.individual-request=2 infeasibility.segmentation=1")
	// allow-portal is an allow policy of the set: left out.
	check(t, "by policy", counts(rep.ByPolicy), "no-share=2 notes-hold=2 notes-redact=1")
	var weeks []string
	for _, b := range rep.Buckets {
		weeks = append(weeks, b.Start+":"+counts(b.ByAction))
	}
	check(t, "weeks", strings.Join(weeks, " | "), "2026-02-23:deny=1 | 2026-03-02:deny=1 | 2026-03-09:delay=2 redact=1")

	p = f.p
	p.Filter = Filter{Patient: "p2"}
	rep, err = Restrictions(context.Background(), f.st, p)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "patient p2", counts(rep.ByAction), "deny=1 redact=1")
	check(t, "default bucket for an open window", rep.Bucket, store.Month)
}

func TestFulfilment(t *testing.T) {
	f := newFixture(t)
	rep, err := Fulfilment(context.Background(), f.st, f.p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range rep.Classes {
		got = append(got, c.Class+": "+times(c.Answered, c.Answered.P50)+" "+times(c.Answered, c.Answered.P95)+" "+times(c.Answered, c.Answered.Max)+
			" held "+times(c.Held, c.Held.P50)+" waiting "+itoa(c.Waiting))
	}
	check(t, "classes", strings.Join(got, "; "),
		"patient: 20 ms 100 ms 100 ms held 2h0m0s waiting 1; provider: 30 ms 50 ms 50 ms held - waiting 0; app: 10 ms 40 ms 40 ms held - waiting 0")
	// Histograms over FulfilmentBins (100 ms, 1 s, ... 30 d, above).
	got = got[:0]
	for _, c := range rep.Classes {
		got = append(got, fmt.Sprintf("%s %v %v", c.Class, c.Answered.Histogram, c.Held.Histogram))
	}
	check(t, "histograms", strings.Join(got, "; "),
		"patient [2 0 0 0 0 0 0 0 0 0] [0 0 0 0 0 0 1 0 0 0]; provider [2 0 0 0 0 0 0 0 0 0] []; app [2 0 0 0 0 0 0 0 0 0] []")
	if len(rep.HistogramBounds) != len(FulfilmentBins) || rep.HistogramBounds[0] != 100 {
		t.Errorf("bounds %v", rep.HistogramBounds)
	}
}

func TestInUse(t *testing.T) {
	f := newFixture(t)
	rep, err := InUse(context.Background(), f.st, f.p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range rep.Policies {
		s := u.ID + " " + u.Action + " v" + u.Version + " since " + dayp(u.Since) + " days " + ftoa(u.DaysInForce) + " applied " + itoa(u.Applied) + " last " + dayp(u.LastApplied)
		got = append(got, s)
	}
	// The set took effect on 1 February; the report is made on 15 April.
	check(t, "policies", strings.Join(got, "; "),
		"no-share deny v1 since 2026-02-01 days 73.5 applied 2 last 2026-03-02; "+
			"notes-hold delay v1 since 2026-02-01 days 73.5 applied 2 last 2026-03-11; "+
			"notes-redact  v since - days 0 applied 1 last 2026-03-09")
}

func TestRepeated(t *testing.T) {
	f := newFixture(t)
	rep, err := Repeated(context.Background(), f.st, f.p)
	if err != nil {
		t.Fatal(err)
	}
	var pats, reqs []string
	for _, g := range rep.Patients {
		pats = append(pats, g.Patient+"/"+g.Exception+"="+itoa(g.Count)+" "+g.Example)
	}
	for _, g := range rep.Requesters {
		reqs = append(reqs, g.Subject+"/"+g.ClientID+"/"+g.Exception+"="+itoa(g.Count))
	}
	check(t, "patients", strings.Join(pats, " "), "p1/privacy.individual-request=2 r3")
	// pat-1's two held requests cite no exception: the same "restriction".
	check(t, "requesters", strings.Join(reqs, " "), "pat-1/portal/=2")
}

func TestConsistency(t *testing.T) {
	f := newFixture(t)
	rep, err := Consistency(context.Background(), f.st, f.p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range rep.ByResourceType {
		for _, c := range g.Classes {
			got = append(got, g.Key+"/"+c.Class+" "+itoa(c.Restricted)+"/"+itoa(c.Records))
		}
		got = append(got, g.Key+"/all "+itoa(g.Overall.Restricted)+"/"+itoa(g.Overall.Records))
	}
	check(t, "by resource type", strings.Join(got, "; "),
		"DocumentReference/patient 2/2; DocumentReference/provider 1/1; DocumentReference/all 3/3; "+
			"Observation/patient 1/2; Observation/provider 1/1; Observation/app 0/2; Observation/all 2/5")
	got = got[:0]
	for _, g := range rep.ByDataClass {
		for _, c := range g.Classes {
			got = append(got, g.Key+"/"+c.Class+" "+itoa(c.Restricted)+"/"+itoa(c.Records))
		}
	}
	check(t, "by data class", strings.Join(got, "; "),
		"Clinical Notes/provider 1/1; Laboratory/patient 1/2; Laboratory/provider 1/1; Vital Signs/patient 1/1")
}

func TestUndocumented(t *testing.T) {
	f := newFixture(t)
	rep, err := UndocumentedGroups(context.Background(), f.st, f.p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 {
		t.Fatalf("groups %+v", rep)
	}
	g := rep[0]
	check(t, "group", []any{g.UpstreamStatus, g.Interaction, g.ResourceType, g.ClientID, g.Class, g.Reason, g.Count, g.Example},
		[]any{403, "search-type", "Observation", "third-app", "app", "upstream-refusal", 2, "r8"})
	b, _ := json.Marshal(rep)
	if !bytes.HasPrefix(b, []byte(`[{"upstream_status":403,`)) {
		t.Errorf("JSON is not a list of groups: %s", b)
	}
}

func TestReviews(t *testing.T) {
	f := newFixture(t)
	p := f.p
	p.Now = time.Date(2026, 4, 25, 0, 0, 0, 0, time.UTC)
	p.ReviewHorizon = 90 * oneDay
	rep, err := Reviews(context.Background(), f.st, p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range rep.Policies {
		got = append(got, it.ID+" "+day0(it.ReviewBy)+" "+it.State)
	}
	check(t, "policies", strings.Join(got, "; "), "no-share 2026-04-20 overdue; notes-hold 2026-07-10 due")
	if len(rep.Flagged) != 1 || rep.Flagged[0].ID != "old-policy" || rep.Flagged[0].ReviewOverdue != 1 {
		t.Errorf("flagged %+v", rep.Flagged)
	}
}

func TestNotices(t *testing.T) {
	f := newFixture(t)
	start := storetest.ReportStart
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"before the horizon", start.Add(5 * oneDay), "0 overdue 0 due 1 pending: "},
		{"due within 3 days", start.Add(8 * oneDay), "0 overdue 1 due 0 pending: r2 due"},
		{"overdue", start.Add(11 * oneDay), "1 overdue 0 due 0 pending: r2 overdue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.p
			p.Now = tc.now
			rep, err := Notices(context.Background(), f.st, p)
			if err != nil {
				t.Fatal(err)
			}
			var items []string
			for _, it := range rep.Items {
				items = append(items, it.Record+" "+it.Status)
			}
			got := itoa(rep.Overdue) + " overdue " + itoa(rep.Due) + " due " + itoa(rep.Pending) + " pending: " + strings.Join(items, ", ")
			check(t, "notices", got, tc.want)
			check(t, "sent", [2]int64{rep.SentOnTime, rep.SentLate}, [2]int64{0, 1})
		})
	}
}

// TestHTMLGolden renders every kind into one page.
func TestHTMLGolden(t *testing.T) {
	f := newFixture(t)
	p := f.p
	p.Bucket = store.Week
	rs, err := All(context.Background(), f.st, p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, "Compliance report", p.Now, rs...); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script", "<link", `src="`, `href="http`, "url(", "ZgotmplZ"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, k := range Kinds {
		if !strings.Contains(html, `id="`+string(k)+`"`) {
			t.Errorf("no section for %s", k)
		}
	}
	golden(t, "testdata/report.golden.html", b.Bytes())
	for _, r := range rs {
		var tb bytes.Buffer
		if err := WriteText(&tb, r); err != nil || tb.Len() == 0 {
			t.Errorf("%s: text %q, %v", r.ReportKind(), tb.String(), err)
		}
	}
}

func TestRunUnknownKind(t *testing.T) {
	if _, err := ParseKind("nope"); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("ParseKind: %v", err)
	}
	if _, err := Run(context.Background(), nil, "nope", Params{}); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("Run: %v", err)
	}
	for _, k := range Kinds {
		if got, err := ParseKind(string(k)); err != nil || got != k || Summaries[k] == "" || Titles[k] == "" {
			t.Errorf("%s: %v, summary %q, title %q", k, err, Summaries[k], Titles[k])
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; run with -update and review the diff", path)
	}
}

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func counts(cs []Count) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+"="+itoa(c.Count))
	}
	return strings.Join(parts, " ")
}

func itoa(n int64) string { return strconvFormat(n) }

func ftoa(f float64) string { return strconvFloat(f) }

func day0(t time.Time) string { return day(t) }

func TestMillisBound(t *testing.T) {
	for ms, want := range map[Millis]string{100: "100 ms", 1000: "1 s", 10e3: "10 s", 60e3: "1 min", 600e3: "10 min",
		3600e3: "1 h", 86400e3: "1 d", 7 * 86400e3: "7 d", 90e3: "90 s", 1500: "1500 ms"} {
		if got := ms.Bound(); got != want {
			t.Errorf("Millis(%v).Bound() = %q, want %q", float64(ms), got, want)
		}
	}
}
