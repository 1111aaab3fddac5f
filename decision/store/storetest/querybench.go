package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
)

// BulkRecords is how many records BenchQueries populates: 1,000,000, or
// EHIGATE_BENCH_RECORDS.
func BulkRecords() int {
	if n, err := strconv.Atoi(os.Getenv("EHIGATE_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// The shape of the bulk data set.
const (
	bulkPatients   = 50_000
	bulkRequesters = 5_000
	bulkClients    = 200
	// bulkSpan is the time the records spread over.
	bulkSpan = 180 * 24 * time.Hour
)

var bulkExceptions = []string{"privacy.individual-request", "infeasibility.segmentation", "security.case-determination",
	"health-it-performance.assured-performance", "harm.individualized-determination", "not-interference.patient-requested-delay"}

var bulkTypes = []string{"Observation", "Condition", "MedicationRequest", "DocumentReference", "Encounter", "Procedure",
	"AllergyIntolerance", "Immunization", "DiagnosticReport", "Patient"}

// bulkRecord makes the i-th record of the bulk data set: 90% allowed,
// 4% redacted, 3% denied (with a notice item), 2% throttled, 1% delayed;
// 2% flagged review-overdue, 0.1% undocumented; requesters of five
// classes; one patient, or two for one record in ten.
func bulkRecord(i, n int, rng *rand.Rand) *decision.Record {
	at := t0.Add(time.Duration(int64(bulkSpan) / int64(n) * int64(i)))
	id := fmt.Sprintf("%013x%013x", at.UnixMicro(), i)
	action := decision.Allow
	switch x := rng.IntN(100); {
	case x < 4:
		action = decision.Redact
	case x < 7:
		action = decision.Deny
	case x < 9:
		action = decision.Throttle
	case x < 10:
		action = decision.Delay
	}
	return Record(id, at, action, func(r *decision.Record) {
		typ := bulkTypes[rng.IntN(len(bulkTypes))]
		r.Interaction, r.ResourceType, r.Path = "search-type", typ, "/fhir/"+typ
		r.Patients = []string{fmt.Sprintf("pat-%05d", rng.IntN(bulkPatients))}
		if rng.IntN(10) == 0 {
			r.Patients = append(r.Patients, fmt.Sprintf("pat-%05d", rng.IntN(bulkPatients)))
			slices.Sort(r.Patients)
			r.Patients = slices.Compact(r.Patients)
		}
		r.DataClasses = []string{"Laboratory", "Vital Signs"}
		class := []decision.Class{decision.ClassPatient, decision.ClassPatient, decision.ClassProvider, decision.ClassProvider,
			decision.ClassApp, decision.ClassPayer, decision.ClassHIN}[rng.IntN(7)]
		r.Requester = decision.Requester{Subject: fmt.Sprintf("user-%04d", rng.IntN(bulkRequesters)), Class: class,
			ClientID: fmt.Sprintf("client-%03d", rng.IntN(bulkClients)), Issuer: "https://idp.example.org",
			Scopes: []string{"patient/*.rs", "launch/patient", "openid", "fhirUser"}, Verified: true,
			TokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
		done := at.Add(time.Duration(5+rng.IntN(200)) * time.Millisecond)
		r.FulfilledAt, r.Status, r.BytesOut = &done, 200, int64(1000+rng.IntN(100000))
		r.PolicySet = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"
		if action.Restricts() {
			exc := bulkExceptions[rng.IntN(len(bulkExceptions))]
			r.Exception = &decision.ExceptionRef{Code: exc, CatalogVersion: "2026.07.1"}
			r.Policies = []decision.PolicyRef{{ID: "policy-" + exc, Version: "1", Action: action, Exception: exc,
				SHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}}
		}
		switch action {
		case decision.Deny:
			r.Status = 403
			r.AddFlag(decision.FlagNoticeRequired)
			r.Notice = &decision.NoticeItem{Exception: r.Exception.Code, DueAt: at.Add(14 * 24 * time.Hour)}
		case decision.Throttle:
			r.Status, r.RetryAfter = 429, 30
		}
		if rng.IntN(50) == 0 {
			r.AddFlag(decision.FlagReviewOverdue)
		}
		if rng.IntN(1000) == 0 {
			r.AddFlag(decision.FlagUndocumented)
			r.AddFlag(decision.FlagUpstreamRestriction)
			r.UpstreamStatus, r.Status, r.Reason = 403, 403, "upstream-refusal"
		}
		r.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	})
}

// PopulateBulk writes n completed records in one chain, in batches, as
// decision entries (hash-chained) with their projections: the data set
// of BenchQueries. It is deterministic.
func PopulateBulk(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 5000
	prev, seq := journal.Genesis, uint64(0)
	items := make([]store.Item, 0, batch)
	for i := 0; i < n; i++ {
		rec := bulkRecord(i, n, rng)
		doc, err := json.Marshal(rec)
		if err != nil {
			tb.Fatal(err)
		}
		seq++
		e := decision.Entry{Chain: "bulk", Seq: seq, Kind: decision.KindDecision, RecordID: rec.ID, At: rec.ReceivedAt, Payload: doc, PrevHash: prev}
		e.Hash = journal.Hash(&e)
		prev = e.Hash
		items = append(items, store.Item{Entry: e, Record: rec, Doc: doc})
		if len(items) == batch || i == n-1 {
			if err := st.Append(ctx, items); err != nil {
				tb.Fatal(err)
			}
			items = items[:0]
		}
	}
}

// BenchQueries measures the queries the admin API issues, over a store
// holding BulkRecords() records (populated here): a page of 100 records
// by patient, by requester, by action in a one-day window, by exception,
// by flag (common and rare), the AuditEvent search of a patient in a
// month, and the next page (cursor) of a requester's records. Each op is one query
// with a different value; it reports p50, p95 and max in milliseconds.
// Its sub-benchmarks are named query-*: run them with -benchtime 200x (a
// fixed number of queries).
func BenchQueries(b *testing.B, st store.Store) {
	n := BulkRecords()
	start := time.Now()
	PopulateBulk(b, st, n)
	b.Logf("populated %d records in %s", n, time.Since(start).Round(time.Second))
	ctx := context.Background()
	day := 24 * time.Hour
	queries := []struct {
		name string
		q    func(i int) store.Query
	}{
		{"query-patient", func(i int) store.Query { return store.Query{Patient: fmt.Sprintf("pat-%05d", (i*7919)%bulkPatients)} }},
		{"query-requester", func(i int) store.Query { return store.Query{Subject: fmt.Sprintf("user-%04d", (i*131)%bulkRequesters)} }},
		{"query-action+day", func(i int) store.Query {
			from := t0.Add(time.Duration(i%170) * day)
			return store.Query{Action: []decision.Action{decision.Deny}, From: from, To: from.Add(day)}
		}},
		{"query-exception", func(i int) store.Query { return store.Query{Exception: bulkExceptions[i%len(bulkExceptions)]} }},
		{"query-exception+month", func(i int) store.Query {
			from := t0.Add(time.Duration(i%5) * 30 * day)
			return store.Query{Exception: bulkExceptions[i%len(bulkExceptions)], From: from, To: from.Add(30 * day)}
		}},
		{"query-flag-2%", func(i int) store.Query {
			return store.Query{Flag: decision.FlagReviewOverdue, To: t0.Add(bulkSpan - time.Duration(i%100)*day)}
		}},
		{"query-flag-0.1%", func(i int) store.Query {
			return store.Query{Flag: decision.FlagUndocumented, To: t0.Add(bulkSpan - time.Duration(i%100)*day)}
		}},
		{"query-patient-month", func(i int) store.Query {
			from := t0.Add(time.Duration(i%5) * 30 * day)
			return store.Query{Patient: fmt.Sprintf("pat-%05d", (i*7919)%bulkPatients), From: from, To: from.Add(30 * day)}
		}},
	}
	for _, qc := range queries {
		b.Run(qc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			rows := 0
			b.ResetTimer()
			for i := range b.N {
				q := qc.q(i)
				t := time.Now()
				recs, _, err := st.Records(ctx, q)
				lat = append(lat, time.Since(t))
				if err != nil {
					b.Fatal(err)
				}
				rows += len(recs)
			}
			b.StopTimer()
			reportLatency(b, lat)
			b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
		})
	}
	b.Run("query-requester-next-page", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := range b.N {
			q := store.Query{Subject: fmt.Sprintf("user-%04d", (i*131)%bulkRequesters), Limit: 2}
			_, next, err := st.Records(ctx, q)
			if err != nil || next == "" {
				b.Fatalf("first page: %v", err)
			}
			q.Cursor = next
			t := time.Now()
			if _, _, err := st.Records(ctx, q); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		reportLatency(b, lat)
	})
}

// BenchAggregates measures the report aggregates over the data set
// BenchQueries populated (st must hold it): one op is one aggregate over
// the whole 180 days.
func BenchAggregates(b *testing.B, st store.Store) {
	ctx := context.Background()
	restrict := []decision.Action{decision.Redact, decision.Throttle, decision.Delay, decision.Deny}
	for _, a := range []struct {
		name string
		run  func() error
	}{
		{"restrictions-by-week", func() error {
			_, err := st.Aggregate(ctx, store.Aggregate{By: []store.Dimension{store.DimBucket, store.DimAction, store.DimException, store.DimPolicies},
				Bucket: store.Week, Filter: store.ReportFilter{Actions: restrict}})
			return err
		}},
		{"consistency-by-type", func() error {
			_, err := st.Aggregate(ctx, store.Aggregate{By: []store.Dimension{store.DimResourceType, store.DimClass, store.DimAction}})
			return err
		}},
		{"fulfilment-percentiles", func() error {
			_, err := st.Durations(ctx, store.DurationQuery{By: store.DimClass, Permille: []int{500, 950}})
			return err
		}},
	} {
		b.Run(a.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				t := time.Now()
				if err := a.run(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			reportLatency(b, lat)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*95+99)/100-1]), "p95-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
