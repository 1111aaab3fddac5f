package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/report"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"iso":       iso,
	"isoPtr":    isoPtr,
	"human":     human,
	"since":     func(a, b time.Time) string { return human(b.Sub(a)) },
	"badge":     badgeClass,
	"pathEsc":   url.PathEscape,
	"short":     short,
	"pretty":    prettyJSON,
	"join":      strings.Join,
	"pct":       func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"reviewCls": reviewClass,
	"ms":        func(m report.Millis) string { return human(msDuration(float64(m))) },
}

// iso formats t in UTC, ISO 8601 ("" for the zero time).
func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func isoPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return iso(*t)
}

// human renders a duration for people: "20 ms", "1.5 s", "2 h 5 min",
// "3 d 4 h".
func human(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "−", -d
	}
	switch {
	case d < time.Millisecond:
		return neg + "0 ms"
	case d < time.Second:
		return fmt.Sprintf("%s%d ms", neg, d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%s%.1f s", neg, math.Floor(d.Seconds()*10)/10)
	case d < time.Hour:
		return fmt.Sprintf("%s%d min %d s", neg, int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%s%d h %d min", neg, int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%s%d d %d h", neg, int(d.Hours())/24, int(d.Hours())%24)
}

// badgeClass is the CSS class of an action or hold state badge.
func badgeClass(s string) string {
	switch s {
	case "allow", "fulfilled", "sent", "ok":
		return "badge ok"
	case "redact", "throttle", "delay", "held", "due", "released", "ready":
		return "badge warn"
	case "deny", "error", "overdue", "expired":
		return "badge bad"
	}
	return "badge"
}

// short cuts a hash or id for display.
func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// prettyJSON indents a JSON text (as it is when it does not parse).
func prettyJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// reviewClass colours a review date: overdue (red), due within 30 days
// (amber), else none.
func reviewClass(by *time.Time, overdue bool, now time.Time) string {
	switch {
	case overdue || (by != nil && !by.After(now)):
		return "review overdue"
	case by != nil && by.Sub(now) <= 30*24*time.Hour:
		return "review due"
	}
	return "review"
}

// msDuration converts milliseconds to a duration.
func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func itoa(n int) string { return strconv.Itoa(n) }

// pathSegment escapes an id for an API path.
func pathSegment(s string) string { return url.PathEscape(s) }

func pct(f float64) string { return strconv.Itoa(int(f*100+0.5)) + "%" }

// trimCredential reads a pasted credential: surrounding space and a
// "Bearer " prefix dropped; an over-long or multi-line value is refused
// ("").
func trimCredential(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	if len(s) > 16<<10 || strings.ContainsAny(s, " \t\r\n") {
		return ""
	}
	return s
}
