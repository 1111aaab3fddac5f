package report

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strings"
	"time"
)

//go:embed templates/*.html templates/style.css
var templateFS embed.FS

// Titles are the section titles of the kinds.
var Titles = map[Kind]string{
	KindRestrictions: "Restrictions by action, exception and policy",
	KindFulfilment:   "Time from request to fulfilment",
	KindInUse:        "How long each restriction has been in use",
	KindRepeated:     "Repeated restrictions",
	KindConsistency:  "Consistency across requester classes",
	KindUndocumented: "Undocumented restrictions",
	KindReviews:      "Policy reviews",
	KindNotices:      "Written responses due",
}

var templates = template.Must(template.New("report").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"base":  filepath.Base,
	"kind":  func(r Result) string { return string(r.ReportKind()) },
	"title": func(r Result) string { return Titles[r.ReportKind()] },
	"class": func(c string) string {
		if c == "" {
			return "(unclassified)"
		}
		return c
	},
	"pct":  func(n, of int64) string { return fmt.Sprintf("%.1f%%", 100*rate(n, of)) },
	"pctf": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"maxTotal": func(bs []BucketCounts) int64 {
		var m int64
		for _, b := range bs {
			m = max(m, b.Total)
		}
		return m
	},
	"barWidth":  func(n, of int64) int64 { return 1 + 200*n/max(of, 1) },
	"rows":      func(g ConsistencyGroup) int { return len(g.Classes) + 1 },
	"minSample": func() int { return MinSample },
	// section is replaced per execution (it needs the template set).
	"section": func(Result) template.HTML { return "" },
}).ParseFS(templateFS, "templates/*.html"))

var style = func() template.CSS {
	b, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	return template.CSS(b)
}()

// WriteHTML writes results as one self-contained HTML page (embedded
// style sheet, no scripts, no external resources) titled title.
func WriteHTML(w io.Writer, title string, generated time.Time, results ...Result) error {
	t, err := templates.Clone()
	if err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	t.Funcs(template.FuncMap{"section": func(r Result) (template.HTML, error) {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, string(r.ReportKind()), r); err != nil {
			return "", err
		}
		// The section template is executed by html/template itself:
		// its output is already escaped.
		return template.HTML(b.String()), nil
	}})
	bw := bufio.NewWriter(w)
	data := struct {
		Title     string
		Style     template.CSS
		Generated time.Time
		Results   []Result
	}{title, style, generated, results}
	if err := t.ExecuteTemplate(bw, "layout", data); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// TitleOf returns the page title of a single report.
func TitleOf(k Kind) string {
	t := Titles[k]
	if t == "" {
		t = strings.ToUpper(string(k[:1])) + string(k[1:])
	}
	return t
}
