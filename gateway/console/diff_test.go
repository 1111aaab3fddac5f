package console_test

import (
	"strings"
	"testing"

	"github.com/ehigate/ehigate/gateway/console"
)

// render writes a diff as "op text" lines.
func render(d []console.Line) string {
	var b strings.Builder
	for _, l := range d {
		b.WriteByte(byte(l.Op))
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct{ name, a, b, want string }{
		{"equal", "a\nb\n", "a\nb\n", " a\n b\n"},
		{"both empty", "", "", ""},
		{"from nothing", "", "a\nb", "+a\n+b\n"},
		{"to nothing", "a\nb", "", "-a\n-b\n"},
		{"change in the middle", "a\nb\nc", "a\nB\nc", " a\n-b\n+B\n c\n"},
		{"insert", "a\nc", "a\nb\nc", " a\n+b\n c\n"},
		{"delete", "a\nb\nc", "a\nc", " a\n-b\n c\n"},
		{"lcs", "a\nb\nc\nd\ne", "x\nb\nd\ny\ne", "-a\n+x\n b\n-c\n d\n+y\n e\n"},
		{"crlf", "a\r\nb\r\n", "a\nb", " a\n b\n"},
		{"repeated lines", "x\nx\nx", "x\nx", " x\n x\n-x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := console.Diff(tc.a, tc.b)
			if got := render(d); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
			if want := strings.Contains("\n"+tc.want, "\n+") || strings.Contains("\n"+tc.want, "\n-"); console.Changed(d) != want {
				t.Errorf("Changed = %v", console.Changed(d))
			}
			// Line numbers follow each text.
			a, b := 0, 0
			for _, l := range d {
				if l.Op != console.Add {
					a++
					if l.A != a {
						t.Fatalf("old line %d numbered %d", a, l.A)
					}
				}
				if l.Op != console.Del {
					b++
					if l.B != b {
						t.Fatalf("new line %d numbered %d", b, l.B)
					}
				}
			}
		})
	}
}

// FuzzDiff: applying a diff's kept and added lines gives the new text,
// its kept and removed lines the old one.
func FuzzDiff(f *testing.F) {
	f.Add("a\nb\nc", "a\nc\nd")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 4096 || len(b) > 4096 {
			return
		}
		d := console.Diff(a, b)
		var olds, news []string
		for _, l := range d {
			if l.Op != console.Add {
				olds = append(olds, l.Text)
			}
			if l.Op != console.Del {
				news = append(news, l.Text)
			}
		}
		norm := func(s string) string {
			return strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		}
		if strings.Join(olds, "\n") != norm(a) || strings.Join(news, "\n") != norm(b) {
			t.Fatalf("diff does not rebuild the texts: %q %q", a, b)
		}
	})
}
