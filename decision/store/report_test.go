package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// reportTestDialect renders JSON and times as markers, to check the SQL
// builders without a database.
var reportTestDialect = &ReportDialect{
	Dialect:     SQLite,
	JSON:        func(path ...string) string { return "J(" + strings.Join(path, ".") + ")" },
	Micros:      func(text string) string { return "M(" + text + ")" },
	TimeMicros:  func(expr string) string { return "T(" + expr + ")" },
	Bucket:      func(b Bucket) string { return "B(" + string(b) + ")" },
	DataClasses: ", DC dc",
}

func TestAggregateSQLBindsEveryValue(t *testing.T) {
	f := ReportFilter{From: time.Unix(1, 0), To: time.Unix(2, 0), Actions: []decision.Action{decision.Deny},
		Flags: []decision.Flag{"x'y"}, NotFlags: []decision.Flag{decision.FlagSpooled, "50%"}, Patient: "p'1", Subject: "s;--", Policy: "a_b"}
	q := Aggregate{Filter: f, By: []Dimension{DimBucket, DimPatient, DimDataClass, DimNoticeSent}, Bucket: Week, MinCount: 2, Limit: 10}
	for _, d := range []*ReportDialect{reportTestDialect, {Dialect: Postgres, JSON: reportTestDialect.JSON, Micros: reportTestDialect.Micros,
		TimeMicros: reportTestDialect.TimeMicros, Bucket: reportTestDialect.Bucket, DataClasses: ", DC dc", DocJoin: " JOIN DOC"}} {
		sqlText, args, err := AggregateSQL(q, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"p'1", "x'y", "s;--", "50%", "a_b"} {
			if strings.Contains(sqlText, v) {
				t.Errorf("value %q is in the SQL text: %s", v, sqlText)
			}
		}
		if len(args) != 8 {
			t.Errorf("%d args, want 8: %v", len(args), args)
		}
		for _, want := range []string{"record_patients p JOIN records r", "B(week)", "DC dc", "HAVING count(*) >= 2", "LIMIT 10", "NOT (" + d.Spooled + ")"} {
			if !strings.Contains(sqlText, want) {
				t.Errorf("no %q in %s", want, sqlText)
			}
		}
		dq := DurationQuery{Filter: f, By: DimClass, Permille: []int{500, 950}}
		if sqlText, args, err = DurationsSQL(dq, d); err != nil || len(args) != 8 || strings.Contains(sqlText, "p'1") {
			t.Errorf("durations: %v %d %s", err, len(args), sqlText)
		}
	}
	for _, bad := range []DurationQuery{{By: DimPatient}, {Permille: []int{0}}, {Permille: []int{1001}}, {By: "nope"}} {
		if _, _, err := DurationsSQL(bad, reportTestDialect); !errors.Is(err, ErrBadAggregate) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestSortGroups(t *testing.T) {
	gs := []Group{{Keys: []string{"b"}, Count: 1}, {Keys: []string{"B"}, Count: 1}, {Keys: []string{"a"}, Count: 2}}
	SortGroups(gs)
	var got []string
	for _, g := range gs {
		got = append(got, g.Keys[0])
	}
	if strings.Join(got, "") != "aBb" {
		t.Fatalf("order %v", got)
	}
}
