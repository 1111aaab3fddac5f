package store

import (
	"errors"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	tests := []struct {
		at int64
		id string
	}{{0, "a"}, {1767225600000000, "01J00000000000000000000000"}, {-5, "x:y"}}
	for _, tc := range tests {
		at, id, err := DecodeCursor(EncodeCursor(tc.at, tc.id))
		if err != nil || at != tc.at || id != tc.id {
			t.Errorf("round trip of (%d, %q) = (%d, %q), %v", tc.at, tc.id, at, id, err)
		}
	}
	for _, bad := range []string{"!!", "", EncodeCursor(1, "")[:2]} {
		if _, _, err := DecodeCursor(bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

// FuzzDecodeCursor: cursors come from API clients.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(1767225600000000, "01J00000000000000000000000"))
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := DecodeCursor(s)
		if err != nil {
			return
		}
		if at2, id2, err := DecodeCursor(EncodeCursor(at, id)); err != nil || at2 != at || id2 != id {
			t.Fatalf("decoded cursor (%d, %q) does not round-trip", at, id)
		}
	})
}

func TestRecordsSQLBindsEveryValue(t *testing.T) {
	q := Query{Patient: "p'1", Subject: "s", Policy: "50%_", Flag: "spooled", Cursor: EncodeCursor(5, "x")}
	for _, d := range []Dialect{SQLite, Postgres} {
		sqlText, args, err := RecordsSQL(q, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"p'1", "50%"} {
			if strings.Contains(sqlText, v) {
				t.Errorf("value %q is in the SQL text: %s", v, sqlText)
			}
		}
		if len(args) != 5 {
			t.Errorf("%d args, want 5: %v", len(args), args)
		}
	}
}
