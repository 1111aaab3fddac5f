package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// StackedChart is a stacked bar chart: one bar per category, one
// segment per series.
type StackedChart struct {
	ID, Title, Desc string
	Categories      []string
	Series          []string
	// Values[i][j] is series j in category i.
	Values [][]float64
}

// BarRow is one bar of a horizontal bar chart.
type BarRow struct {
	Label string
	Value float64
	// Text is the value as shown (default: the number).
	Text string
	// Series picks the bar's colour (0..7).
	Series int
}

// BarChart is a horizontal bar chart.
type BarChart struct {
	ID, Title, Desc string
	Rows            []BarRow
	// Log draws the bars on a log10 scale (for durations from
	// milliseconds to days); values below 1 are drawn as 1.
	Log bool
	// Max is the scale's end (default: the largest value).
	Max float64
}

// esc escapes text for SVG.
func esc(s string) string { return html.EscapeString(s) }

// num formats a coordinate.
func num(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", f), "0"), ".")
}

// svgOpen starts a chart's SVG with its accessible title and description.
func svgOpen(b *strings.Builder, id, title, desc string, w, h float64) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc">`,
		esc(id), num(w), num(h), num(w), num(h), esc(id), esc(id))
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

// Render draws the chart as inline SVG.
func (c StackedChart) Render() template.HTML {
	const left, top, plotH, barW, gap, legendRow = 48.0, 12.0, 200.0, 28.0, 12.0, 18.0
	total := 0.0
	for _, vs := range c.Values {
		s := 0.0
		for _, v := range vs {
			s += max(v, 0)
		}
		total = max(total, s)
	}
	scale := max(niceMax(total), 4) // whole counts on the ticks
	width := left + float64(len(c.Categories))*(barW+gap) + gap
	width = max(width, 320)
	height := top + plotH + 64 + legendRow*float64(len(c.Series))
	var b strings.Builder
	svgOpen(&b, c.ID, c.Title, c.Desc, width, height)
	axes(&b, left, top, plotH, width, scale)
	for i, cat := range c.Categories {
		x := left + gap + float64(i)*(barW+gap)
		y := top + plotH
		for j, v := range c.Values[i] {
			if v <= 0 || j >= len(c.Series) {
				continue
			}
			hgt := v / scale * plotH
			y -= hgt
			fmt.Fprintf(&b, `<rect class="mark s%d" x="%s" y="%s" width="%s" height="%s"><title>%s, %s: %s</title></rect>`,
				j%8, num(x), num(y), num(barW), num(hgt), esc(cat), esc(c.Series[j]), num(v))
		}
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" transform="rotate(45 %s %s)">%s</text>`,
			num(x+4), num(top+plotH+14), num(x+4), num(top+plotH+14), esc(cat))
	}
	for j, s := range c.Series {
		y := top + plotH + 60 + float64(j)*legendRow
		fmt.Fprintf(&b, `<rect class="s%d" x="%s" y="%s" width="12" height="12"/><text class="legend" x="%s" y="%s">%s</text>`,
			j%8, num(left), num(y-10), num(left+18), num(y), esc(s))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axes draws the value axis with five gridlines.
func axes(b *strings.Builder, left, top, plotH, width, scale float64) {
	for k := 0; k <= 4; k++ {
		v := scale * float64(k) / 4
		y := top + plotH - plotH*float64(k)/4
		fmt.Fprintf(b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`,
			num(left), num(y), num(width-4), num(y), num(left-6), num(y+4), num(v))
	}
}

// niceMax rounds a scale's end up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// Render draws the chart as inline SVG.
func (c BarChart) Render() template.HTML {
	const labelW, barH, gap, top, plotW, valueW = 200.0, 18.0, 8.0, 8.0, 420.0, 110.0
	scale := c.Max
	for _, r := range c.Rows {
		scale = max(scale, r.Value)
	}
	length := func(v float64) float64 {
		if c.Log {
			hi := math.Log10(max(scale, 10))
			return math.Log10(max(v, 1)) / hi * plotW
		}
		if scale <= 0 {
			return 0
		}
		return max(v, 0) / scale * plotW
	}
	height := top*2 + float64(len(c.Rows))*(barH+gap)
	var b strings.Builder
	svgOpen(&b, c.ID, c.Title, c.Desc, labelW+plotW+valueW, max(height, 40))
	for i, r := range c.Rows {
		y := top + float64(i)*(barH+gap)
		text := r.Text
		if text == "" {
			text = num(r.Value)
		}
		fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="end">%s</text>`, num(labelW-8), num(y+13), esc(r.Label))
		fmt.Fprintf(&b, `<rect class="mark s%d" x="%s" y="%s" width="%s" height="%s"><title>%s: %s</title></rect>`,
			r.Series%8, num(labelW), num(y), num(length(r.Value)), num(barH), esc(r.Label), esc(text))
		fmt.Fprintf(&b, `<text class="value" x="%s" y="%s">%s</text>`, num(labelW+length(r.Value)+6), num(y+13), esc(text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
