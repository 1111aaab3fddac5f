package yamlx

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Path  string        `yaml:"path"`
	Every time.Duration `yaml:"every"`
}

type sample struct {
	Name   string            `yaml:"name"`
	Count  int               `yaml:"count"`
	On     bool              `yaml:"on"`
	Rate   float64           `yaml:"rate"`
	Since  time.Time         `yaml:"since"`
	Store  *inner            `yaml:"store"`
	Items  []inner           `yaml:"items"`
	Labels map[string]string `yaml:"labels"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, s sample)
		want  []string // problems, as rendered
	}{
		{
			name: "valid",
			in: "name: x\ncount: 3\non: true\nrate: 1.5\nsince: 2025-03-01\n" +
				"store:\n  path: /tmp/a\n  every: 30d\nitems:\n  - path: a\nlabels:\n  k: v\n",
			check: func(t *testing.T, s sample) {
				if s.Name != "x" || s.Count != 3 || !s.On || s.Rate != 1.5 || s.Store.Path != "/tmp/a" ||
					s.Store.Every != 30*24*time.Hour || len(s.Items) != 1 || s.Labels["k"] != "v" ||
					!s.Since.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
					t.Fatalf("decoded %+v", s)
				}
			},
		},
		{name: "empty file", in: ""},
		{
			name: "every problem at once",
			in:   "name: [1]\ncount: many\nstroe: {}\nitems:\n  - path: a\n    evry: 1s\n  - every: soon\n",
			want: []string{
				"f.yaml:1: name: want a string, got a list",
				"f.yaml:2: count: want an integer, got \"many\"",
				"f.yaml:3: stroe: unknown key (did you mean \"store\"?)",
				"f.yaml:6: items[0].evry: unknown key (did you mean \"every\"?)",
				"f.yaml:7: items[1].every: want a duration such as 90s, 72h or 30d, got \"soon\"",
			},
		},
		{name: "duplicate", in: "name: a\nname: b\n", want: []string{"f.yaml:2: name: duplicate key"}},
		{name: "bool strict", in: "on: yes please\n", want: []string{"f.yaml:1: on: want true or false, got \"yes please\""}},
		{name: "syntax", in: "name: a\n  bad: [\n", want: []string{"f.yaml:2: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s sample
			_, ps := Decode("f.yaml", []byte(tc.in), &s)
			ps.Sort()
			if len(ps) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(tc.want), ps)
			}
			for i, p := range ps {
				if !strings.HasPrefix(p.String(), tc.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, p.String(), tc.want[i])
				}
			}
			if len(ps) > 0 && !errors.Is(ps.Err(), ErrInvalid) {
				t.Error("Problems does not match ErrInvalid")
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestDocLine(t *testing.T) {
	var s sample
	doc, ps := Decode("f.yaml", []byte("name: a\nstore:\n  path: p\nitems:\n  - path: x\n"), &s)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	for path, want := range map[string]int{
		"name": 1, "store.path": 3, "store.every": 2, "items[0].path": 5, "items[0].every": 5, "missing": 1,
	} {
		if got := doc.Line(path); got != want {
			t.Errorf("Line(%q) = %d, want %d", path, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("name: x\nstore:\n  path: p\nitems: [{path: a}]\n")
	f.Add("a: &x {b: 1}\nc: *x\n")
	f.Fuzz(func(t *testing.T, in string) {
		var s sample
		_, ps := Decode("f.yaml", []byte(in), &s)
		for _, p := range ps {
			if p.Msg == "" {
				t.Fatalf("problem without message: %+v", p)
			}
		}
	})
}
