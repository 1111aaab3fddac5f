package admin

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// maxPage bounds a page of records.
const maxPage = 1000

// recordParams are the query parameters of GET /api/records.
var recordParams = []string{"from", "to", "patient", "requester", "client", "issuer", "class", "action", "exception",
	"policy", "interaction", "type", "status", "flag", "limit", "cursor", "order"}

// ParseRecordsQuery reads the query of GET /api/records into a store
// query. Every parameter may be given once; unknown ones are refused.
func ParseRecordsQuery(v url.Values) (store.Query, error) {
	var q store.Query
	if err := only(v, recordParams...); err != nil {
		return q, err
	}
	var err error
	if q.From, err = timeParam(v, "from"); err != nil {
		return q, err
	}
	if q.To, err = timeParam(v, "to"); err != nil {
		return q, err
	}
	q.Patient, q.Subject, q.ClientID, q.Issuer = v.Get("patient"), v.Get("requester"), v.Get("client"), v.Get("issuer")
	q.Exception, q.Policy, q.Interaction, q.ResourceType = v.Get("exception"), v.Get("policy"), v.Get("interaction"), v.Get("type")
	q.Cursor = v.Get("cursor")
	if c := v.Get("class"); c != "" {
		if !decision.Class(c).Valid() {
			return q, badRequest("class: unknown requester class %q", c)
		}
		q.Class = decision.Class(c)
	}
	if s := v.Get("action"); s != "" {
		for _, a := range strings.Split(s, ",") {
			var act decision.Action
			if err := act.UnmarshalText([]byte(strings.TrimSpace(a))); err != nil {
				return q, badRequest("action: unknown action %q (allow, redact, throttle, delay, deny, error)", a)
			}
			q.Action = append(q.Action, act)
		}
	}
	if s := v.Get("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			return q, badRequest("status: want an HTTP status code, got %q", s)
		}
		q.Status = n
	}
	if f := v.Get("flag"); f != "" {
		q.Flag = decision.Flag(f)
	}
	if q.Limit, err = intParam(v, "limit", 100, 1, maxPage); err != nil {
		return q, err
	}
	switch o := v.Get("order"); o {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, badRequest("order: want asc or desc, got %q", o)
	}
	if q.Cursor != "" {
		if _, _, err := store.DecodeCursor(q.Cursor); err != nil {
			return q, badRequest("cursor: not a cursor this API returned")
		}
	}
	return q, nil
}

// only refuses parameters outside allowed, and any given twice.
func only(v url.Values, allowed ...string) error {
	for k, vs := range v {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return badRequest("unknown parameter %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return badRequest("parameter %q is given %d times", k, len(vs))
		}
	}
	return nil
}

// ParseTime reads a time parameter: RFC 3339, or a date (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time or a date (2006-01-02), got %q", s)
}

func timeParam(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return t, badRequest("%s: %v", name, err)
	}
	return t, nil
}

func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s: want a number from %d to %d, got %q", name, lo, hi, s)
	}
	return n, nil
}

// durationParam reads a duration: a Go duration or whole days ("3d").
func durationParam(v url.Values, name string, def time.Duration) (time.Duration, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 && n <= 36600 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, badRequest("%s: want a duration such as 72h or 3d, got %q", name, s)
}
