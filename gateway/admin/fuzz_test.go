package admin

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/ehigate/ehigate/decision/store"
)

// FuzzParseRecordsQuery: the query of GET /api/records comes from
// clients; a parsed query is within bounds.
func FuzzParseRecordsQuery(f *testing.F) {
	for _, s := range []string{"", "from=2026-03-01&to=2026-04-01T00:00:00Z&patient=p1&action=deny,redact&limit=50&order=asc",
		"class=provider&status=403&flag=undocumented&cursor=" + store.EncodeCursor(1767225600000000, "01J00000000000000000000000"),
		"action=maybe", "limit=99999", "patient=a&patient=b", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseRecordsQuery(v)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > maxPage {
			t.Fatalf("limit %d", q.Limit)
		}
		if _, _, err := store.RecordsSQL(q, store.SQLite); err != nil {
			t.Fatalf("accepted query does not render: %v", err)
		}
	})
}

// FuzzAuditEventSearch: search parameters and page tokens come from
// clients.
func FuzzAuditEventSearch(f *testing.F) {
	f.Add("date=ge2026-01-01&date=lt2026-02-01T00:00:00Z&patient=Patient/p1&outcome=4,8&_count=10&_sort=date")
	f.Add("_getpages=" + pageToken{Cursor: store.EncodeCursor(5, "r1"), Skip: 2}.encode())
	f.Add("date=2026-03-01T12:00:05.123+02:00")
	f.Add("date=ge")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s, err := ParseAuditEventSearch(v)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		if s.Count < 1 || s.Count > maxPage || s.Page.Skip < 0 {
			t.Fatalf("search %+v", s)
		}
		if tok := s.Page.encode(); v.Get("_getpages") != "" {
			p, err := decodePage(tok)
			if err != nil || p != s.Page {
				t.Fatalf("page token does not round-trip: %+v %v", p, err)
			}
		}
	})
}

// FuzzParseDateParams: a parsed range is ordered values' intersection.
func FuzzParseDateParams(f *testing.F) {
	for _, s := range []string{"2026", "ge2026-03", "lt2026-03-01T12:00", "eq2026-03-01T12:00:05.25+02:00", "sa2026-03-01T12:00:00Z", "2026-13-01"} {
		f.Add(s, "le2027")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		r, err := ParseDateParams([]string{a, b})
		if err != nil {
			return
		}
		one, err1 := ParseDateParams([]string{a})
		two, err2 := ParseDateParams([]string{b})
		if err1 != nil || err2 != nil {
			t.Fatalf("the pair parses but not each value: %v %v", err1, err2)
		}
		for _, x := range []DateRange{one, two} {
			if !x.From.IsZero() && r.From.Before(x.From) || !x.To.IsZero() && r.To.After(x.To) {
				t.Fatalf("%+v is not within %+v", r, x)
			}
		}
	})
}

// FuzzIdentify: only the configured token identifies anyone.
func FuzzIdentify(f *testing.F) {
	f.Add("Bearer " + auditorToken)
	f.Add("bearer  " + auditorToken + " ")
	f.Add("Basic YWxpY2U6cHc=")
	f.Add("Bearer a.b.c")
	creds, err := NewCredentials(context.Background(), []Token{{Name: "alice", Role: RoleAuditor, SHA256: sha256.Sum256([]byte(auditorToken))}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r, _ := http.NewRequest("GET", "/api/records", nil)
		r.Header["Authorization"] = []string{h}
		who, err := creds.Identify(r)
		if err != nil {
			return
		}
		tok, _ := bearer(r)
		if tok != auditorToken || who.Name != "alice" || who.Role != RoleAuditor {
			t.Fatalf("%q identified %+v", h, who)
		}
	})
}
