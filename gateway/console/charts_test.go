package console_test

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/gateway/console"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update after checking):\n%s", path, got)
	}
}

// wellFormed checks an SVG parses as XML and has its accessible title.
func wellFormed(t *testing.T, svg string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, svg)
			}
			break
		}
	}
	for _, want := range []string{`role="img"`, `<title id=`, `<desc id=`, `aria-labelledby=`} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %s", want)
		}
	}
}

func TestStackedChart(t *testing.T) {
	c := console.StackedChart{ID: "over-time", Title: "Restrictions <by> exception", Desc: "Per day & stacked.",
		Categories: []string{"2026-03-01", "2026-03-02", "2026-03-03"},
		Series:     []string{"privacy.individual-request", "infeasibility.segmentation", "(no exception)"},
		Values:     [][]float64{{2, 1, 0}, {0, 0, 0}, {5, 3, 1}}}
	svg := string(c.Render())
	wellFormed(t, svg)
	if n := strings.Count(svg, `class="mark `); n != 5 {
		t.Errorf("%d marks, want 5", n)
	}
	if strings.Contains(svg, "<by>") {
		t.Error("title not escaped")
	}
	golden(t, "stacked.svg", svg)
	// No data: still a valid chart, no marks.
	empty := string(console.StackedChart{ID: "e", Title: "empty"}.Render())
	wellFormed(t, empty)
	if strings.Contains(empty, `class="mark`) {
		t.Error("marks without data")
	}
}

func TestBarChart(t *testing.T) {
	c := console.BarChart{ID: "times", Title: "Time to fulfilment", Desc: "Log scale.", Log: true, Rows: []console.BarRow{
		{Label: "patient p50", Value: 20, Text: "20 ms"},
		{Label: "patient max", Value: 7.2e6, Text: "2 h 0 min", Series: 2},
		{Label: "zero", Value: 0},
	}}
	svg := string(c.Render())
	wellFormed(t, svg)
	golden(t, "bars-log.svg", svg)
	lin := console.BarChart{ID: "rates", Title: "Rates", Desc: "Share restricted.", Max: 1, Rows: []console.BarRow{
		{Label: "patient", Value: 0.5, Text: "50%"}, {Label: "provider", Value: 1, Text: "100%", Series: 1}}}
	svg = string(lin.Render())
	wellFormed(t, svg)
	golden(t, "bars-linear.svg", svg)
}
