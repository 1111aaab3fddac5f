package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/policy"
)

// match summarizes which requests the policy applies to.
func match(p *policy.Policy) []pair {
	m := p.Match
	r := m.Requester
	out := pairs(
		"Requester classes", list(r.Class), "Not requester classes", list(r.NotClass), "OAuth clients", list(r.ClientID),
		"Token issuers", list(r.Issuer), "Requester subjects", list(r.Subject), "SMART scopes", list(r.Scopes),
		"Interactions", list(m.Interactions), "Resource types", list(m.ResourceTypes), "USCDI data classes", list(m.DataClasses),
		"Security labels", list(m.SecurityLabels), "Patients", list(m.Patients),
		"Request condition (CEL)", m.When, "Resource condition (CEL)", m.ResourceWhen)
	if w := m.Window; w != nil {
		var parts []string
		if w.From != nil {
			parts = append(parts, "from "+w.From.UTC().Format(time.RFC3339))
		}
		if w.To != nil {
			parts = append(parts, "to "+w.To.UTC().Format(time.RFC3339))
		}
		for _, s := range w.Weekly {
			parts = append(parts, strings.Join(s.Days, ", ")+" "+s.From+"-"+s.To)
		}
		if w.TimeZone != "" {
			parts = append(parts, "("+w.TimeZone+")")
		}
		out = append(out, pair{"Time window", strings.Join(parts, " ")})
	}
	if len(out) == 0 {
		out = append(out, pair{"Requests", "every request"})
	}
	return out
}

// parameters describes how a throttle or delay is applied.
func parameters(p *policy.Policy) []pair {
	var out []pair
	if t := p.Throttle; t != nil {
		out = append(out, pairs("Rate", t.Rate, "Counted by", t.Key, "Burst", strconv.Itoa(t.Burst),
			"If the limiter store is unreachable", t.OnStoreFailure)...)
	}
	if d := p.Delay; d != nil {
		out = append(out, pair{"Form", d.Form})
		if d.Form == "embargo" {
			out = append(out, pair{"Held until", duration(time.Duration(d.ReleaseAfter)) + " after " + d.From})
		} else {
			out = append(out, pairs("Held for", duration(time.Duration(d.HoldFor)), "Released by", d.Release)...)
		}
	}
	if p.OnReviewOverdue == "lapse" {
		out = append(out, pair{"When its review is overdue", "it stops being enforced (lapses)"})
	}
	return out
}

// pairs makes pairs of name, value arguments, skipping empty values.
func pairs(kv ...string) []pair {
	var out []pair
	for i := 0; i+1 < len(kv); i += 2 {
		if v := strings.TrimSpace(kv[i+1]); v != "" && v != "0" {
			out = append(out, pair{kv[i], v})
		}
	}
	return out
}

func list(s []string) string { return strings.Join(s, ", ") }

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// value renders a documented condition's value.
func value(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, y := range x {
			parts[i] = value(y)
		}
		return strings.Join(parts, "; ")
	case time.Time:
		return date(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func duration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	if d > 0 && d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return d.String()
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
