package console_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ehigate/ehigate/gateway/console"
)

func TestParseSearch(t *testing.T) {
	v, _ := url.ParseQuery("action=deny&action=redact,bogus,deny&patient=+p1+&unknown=x&from=&limit=20")
	f, q := console.ParseSearch(v)
	if got := q.Encode(); got != "action=deny%2Credact&limit=20&patient=p1" {
		t.Fatalf("query %s", got)
	}
	if !f.Actions["deny"] || !f.Actions["redact"] || f.Values["patient"] != "p1" {
		t.Fatalf("form %+v", f)
	}
	if _, q := console.ParseSearch(url.Values{}); q.Get("limit") != "50" {
		t.Fatalf("default page size: %v", q)
	}
}

// FuzzParseSearch: any query gives only the API's parameters, bounded,
// valid UTF-8 without control characters, and parsing is idempotent.
func FuzzParseSearch(f *testing.F) {
	f.Add("action=deny,redact&patient=p1&from=2026-03-01&cursor=abc")
	f.Add("class=%00%ff&limit=-1&status=999&x=y")
	f.Add(strings.Repeat("a", 300) + "=1&patient=" + strings.Repeat("é", 200))
	allowed := []string{"from", "to", "patient", "requester", "client", "issuer", "class", "action", "exception",
		"policy", "interaction", "type", "status", "flag", "limit", "order", "cursor"}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_, q := console.ParseSearch(v)
		for k, vs := range q {
			if !slices.Contains(allowed, k) || len(vs) != 1 {
				t.Fatalf("parameter %q %q", k, vs)
			}
			if len(vs[0]) > 256 || !utf8.ValidString(vs[0]) || strings.ContainsAny(vs[0], "\x00\r\n") {
				t.Fatalf("value %q", vs[0])
			}
		}
		if _, q2 := console.ParseSearch(q); q2.Encode() != q.Encode() {
			t.Fatalf("not idempotent: %s then %s", q.Encode(), q2.Encode())
		}
		w := console.ParseWindow(v)
		for k, s := range w {
			if len(s) > 256 || !utf8.ValidString(s) {
				t.Fatalf("window %s=%q", k, s)
			}
		}
	})
}
