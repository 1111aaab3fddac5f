package console

import (
	"net/url"
	"slices"
	"strings"
)

// filterFields are the decision search's fields: the API's filters of
// GET /api/records.
var filterFields = []string{"from", "to", "patient", "requester", "client", "issuer", "class", "exception",
	"policy", "interaction", "type", "status", "flag", "limit", "order", "cursor"}

// Actions are the decision actions, offered as checkboxes.
var Actions = []string{"allow", "redact", "throttle", "delay", "deny", "error"}

// Classes are the requester classes.
var Classes = []string{"patient", "personal-representative", "provider", "payer", "app", "hin", "public-health", "research", "other"}

// maxField bounds one form value.
const maxField = 256

// field reads one form value: trimmed, control characters dropped, at
// most maxField bytes (cut at a rune boundary).
func field(v url.Values, name string) string {
	s := strings.TrimSpace(readable(v.Get(name)))
	if len(s) > maxField {
		s = s[:maxField]
		for len(s) > 0 && !validEnd(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// validEnd reports whether s does not end inside a UTF-8 sequence.
func validEnd(s string) bool {
	c := s[len(s)-1]
	if c < 0x80 {
		return true
	}
	// Find the start of the last rune.
	i := len(s) - 1
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	n := len(s) - i
	switch b := s[i]; {
	case b&0xE0 == 0xC0:
		return n == 2
	case b&0xF0 == 0xE0:
		return n == 3
	case b&0xF8 == 0xF0:
		return n == 4
	}
	return false
}

// SearchForm is the decision search as the form gave it.
type SearchForm struct {
	Values  map[string]string
	Actions map[string]bool
}

// ParseSearch reads the decision search form (the page's query) into the
// query to send to GET /api/records: known fields only, empty ones
// dropped, the action checkboxes joined. Values are passed on for the API
// to check, so its messages explain what is wrong.
func ParseSearch(v url.Values) (SearchForm, url.Values) {
	f := SearchForm{Values: map[string]string{}, Actions: map[string]bool{}}
	q := url.Values{}
	for _, name := range filterFields {
		if s := field(v, name); s != "" {
			f.Values[name] = s
			q.Set(name, s)
		}
	}
	var acts []string
	for _, a := range v["action"] {
		for p := range strings.SplitSeq(a, ",") {
			p = strings.TrimSpace(p)
			if slices.Contains(Actions, p) && !f.Actions[p] {
				f.Actions[p] = true
				acts = append(acts, p)
			}
		}
	}
	if len(acts) > 0 {
		q.Set("action", strings.Join(acts, ","))
	}
	if _, ok := f.Values["limit"]; !ok {
		q.Set("limit", "50")
	}
	return f, q
}

// nextPage is the console URL of the page after q, at cursor.
func nextPage(q url.Values, cursor string) string {
	n := url.Values{}
	for k, v := range q {
		n[k] = slices.Clone(v)
	}
	n.Set("cursor", cursor)
	return Prefix + "decisions?" + n.Encode()
}

// windowFields are the report and export forms' fields.
var windowFields = []string{"from", "to", "patient", "requester", "policy", "bucket"}

// ParseWindow reads a report or export form: its known fields, trimmed
// and bounded, empty ones dropped.
func ParseWindow(v url.Values) map[string]string {
	out := map[string]string{}
	for _, name := range windowFields {
		if s := field(v, name); s != "" {
			out[name] = s
		}
	}
	return out
}
