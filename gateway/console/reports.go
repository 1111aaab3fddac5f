package console

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/ehigate/ehigate/decision/report"
)

// reportsData is the reports page.
type reportsData struct {
	Form         map[string]string
	Restrictions *report.RestrictionsReport
	Fulfilment   *report.FulfilmentReport
	Consistency  *report.ConsistencyReport
	Undocumented report.Undocumented
	// OverTime, Times and Rates are the charts.
	OverTime    StackedChart
	Histogram   StackedChart
	Times       BarChart
	Rates       []BarChart
	Errors      []string
	ExceptionsT []string
}

// noException names restrictions that rely on no exception.
const noException = "(no exception)"

func (h *Handler) reports(w http.ResponseWriter, r *http.Request, ss *session) {
	form := ParseWindow(r.URL.Query())
	q := url.Values{}
	for k, v := range form {
		q.Set(k, v)
	}
	d := reportsData{Form: form}
	get := func(kind string, v any) {
		if err := h.call(r, ss, http.MethodGet, "/api/reports/"+kind, q, nil).decode(v); err != nil {
			d.Errors = append(d.Errors, kind+": "+err.Error())
		}
	}
	var rr report.RestrictionsReport
	get("restrictions", &rr)
	d.Restrictions = &rr
	var fr report.FulfilmentReport
	get("fulfilment", &fr)
	d.Fulfilment = &fr
	q.Del("bucket") // only the restrictions report has buckets
	var cr report.ConsistencyReport
	get("consistency", &cr)
	d.Consistency = &cr
	get("undocumented", &d.Undocumented)
	d.OverTime = restrictionsChart(&rr)
	d.Times = fulfilmentChart(&fr)
	d.Histogram = fulfilmentHistogram(&fr)
	for i, g := range cr.ByResourceType {
		d.Rates = append(d.Rates, rateChart("rates-"+itoa(i), g))
	}
	status := http.StatusOK
	if len(d.Errors) == 4 {
		status = http.StatusBadRequest
	}
	h.render(w, r, status, "reports", page{Title: "Reports", Nav: "reports", Session: ss, Data: &d})
}

// restrictionsChart stacks each bucket's restrictions by exception.
func restrictionsChart(rr *report.RestrictionsReport) StackedChart {
	c := StackedChart{ID: "restrictions-over-time", Title: "Restrictions over time by exception",
		Desc: "Restrictions per " + string(rr.Bucket) + ", stacked by the exception relied on; the table below has the numbers."}
	for _, e := range rr.ByException {
		c.Series = append(c.Series, e.Name)
	}
	for _, bk := range rr.Buckets {
		for _, e := range bk.ByException {
			if !slices.Contains(c.Series, e.Name) {
				c.Series = append(c.Series, e.Name)
			}
		}
	}
	c.Series = append(c.Series, noException)
	unnamed := false
	for _, bk := range rr.Buckets {
		row := make([]float64, len(c.Series))
		var named int64
		for _, e := range bk.ByException {
			row[slices.Index(c.Series, e.Name)] += float64(e.Count)
			named += e.Count
		}
		row[len(row)-1] = float64(max(bk.Total-named, 0))
		unnamed = unnamed || bk.Total > named
		c.Categories = append(c.Categories, bk.Start)
		c.Values = append(c.Values, row)
	}
	if !unnamed {
		c.Series = c.Series[:len(c.Series)-1]
		for i := range c.Values {
			c.Values[i] = c.Values[i][:len(c.Series)]
		}
	}
	return c
}

// fulfilmentChart shows each requester class's time to fulfilment (p50,
// p95 and max) on a log scale.
func fulfilmentChart(fr *report.FulfilmentReport) BarChart {
	c := BarChart{ID: "fulfilment-times", Title: "Time to fulfilment per requester class",
		Desc: "Median, 95th percentile and longest time from request to fulfilment per requester class, log scale; the table below has the numbers.", Log: true}
	for _, cl := range fr.Classes {
		for _, t := range []struct {
			kind string
			v    report.Times
		}{{"answered", cl.Answered}, {"held", cl.Held}} {
			if t.v.Count == 0 {
				continue
			}
			for k, q := range []struct {
				name string
				ms   report.Millis
			}{{"p50", t.v.P50}, {"p95", t.v.P95}, {"max", t.v.Max}} {
				c.Rows = append(c.Rows, BarRow{Label: cl.Class + " " + t.kind + " " + q.name, Value: float64(q.ms),
					Text: human(msDuration(float64(q.ms))), Series: k})
			}
		}
	}
	return c
}

// fulfilmentHistogram counts the requests of each requester class (held
// ones apart) by their time to fulfilment, in the report's log-scale
// bins: one bar per bin, one segment per class.
func fulfilmentHistogram(fr *report.FulfilmentReport) StackedChart {
	c := StackedChart{ID: "fulfilment-histogram", Title: "Time to fulfilment: requests per time bin and requester class",
		Desc: "Requests per time-to-fulfilment bin, stacked by requester class (held requests apart); the table below has the numbers."}
	n := len(fr.HistogramBounds) + 1
	var cols [][]int64
	for _, cl := range fr.Classes {
		name := cl.Class
		if name == "" {
			name = "(unclassified)"
		}
		for _, t := range []struct {
			label string
			v     report.Times
		}{{name, cl.Answered}, {name + " (held)", cl.Held}} {
			if t.v.Count == 0 || len(t.v.Histogram) != n {
				continue
			}
			c.Series = append(c.Series, t.label)
			cols = append(cols, t.v.Histogram)
		}
	}
	if len(cols) == 0 {
		return c
	}
	for i := range n {
		label := "> " + fr.HistogramBounds[n-2].Bound()
		if i < n-1 {
			label = "≤ " + fr.HistogramBounds[i].Bound()
		}
		c.Categories = append(c.Categories, label)
		row := make([]float64, len(cols))
		for j, col := range cols {
			row[j] = float64(col[i])
		}
		c.Values = append(c.Values, row)
	}
	return c
}

// rateChart shows each requester class's restriction rate for one
// resource type.
func rateChart(id string, g report.ConsistencyGroup) BarChart {
	c := BarChart{ID: id, Title: "Restriction rate by requester class: " + g.Key,
		Desc: "Share of " + g.Key + " requests restricted, per requester class; spread " + pct(g.Spread) + ".", Max: 1}
	for i, cl := range g.Classes {
		c.Rows = append(c.Rows, BarRow{Label: cl.Class, Value: cl.Rate, Text: pct(cl.Rate) + " of " + itoa(int(cl.Records)), Series: i})
	}
	return c
}
