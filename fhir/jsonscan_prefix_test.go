package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestResetPrefix(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name    string
		in      string
		depth   int
		n       int // 0: no complete object
		typ, id string
		err     error
	}{
		{name: "resource then more", in: `{"resourceType":"Patient","id":"a"},{"x":1}`, n: 35, typ: "Patient", id: "a"},
		{name: "exact", in: `{"resourceType":"Patient"}`, n: 26, typ: "Patient"},
		{name: "spaces inside, not after", in: "{ \"resourceType\" : \"Patient\" }  \n", n: 30, typ: "Patient"},
		{name: "escaped name", in: `{"resource\u0054ype":"Observation"}]`, n: 35, typ: "Observation"},
		{name: "not a resource", in: `{"fullUrl":"x"}...`, n: 15, err: ErrNotResource},
		{name: "empty object", in: `{}`, n: 2, err: ErrNotResource},
		{name: "two resourceTypes", in: `{"resourceType":"Bundle","resourceType":"Patient"}`, n: 50, err: ErrAmbiguousType},
		{name: "incomplete", in: `{"resourceType":"Patient","id":"a"`, err: ErrIncomplete},
		{name: "incomplete string", in: `{"resourceType":"Pat`, err: ErrIncomplete},
		{name: "incomplete escape", in: `{"a":"\u00`, err: ErrIncomplete},
		{name: "incomplete number", in: `{"a":[1.`, err: ErrIncomplete},
		{name: "incomplete literal", in: `{"a":tr`, err: ErrIncomplete},
		{name: "incomplete name", in: `{ "a"`, err: ErrIncomplete},
		{name: "just a brace", in: `{`, err: ErrIncomplete},
		{name: "bad escape before the end", in: `{"a":"\uZ`, err: ErrNotResource},
		{name: "bad literal before the end", in: `{"a":tx`, err: ErrNotResource},
		{name: "malformed", in: `{"resourceType":"Patient",}`, err: ErrNotResource},
		{name: "malformed at the end", in: `{"resourceType":"Patient",]`, err: ErrNotResource},
		{name: "leading space", in: ` {"resourceType":"Patient"}`, err: ErrNotResource},
		{name: "not an object", in: `["resourceType"]`, err: ErrNotResource},
		{name: "empty", in: ``, err: ErrIncomplete},
		{name: "deep within the limit", in: `{"resourceType":"Basic","a":` + deep(jsMaxDepth-11) + `}`, depth: 10, n: 2*(jsMaxDepth-11) + 29, typ: "Basic"},
		{name: "too deep for its depth", in: `{"resourceType":"Basic","a":` + deep(jsMaxDepth-10) + `}`, depth: 10, err: ErrNotResource},
		{name: "object itself too deep", in: `{"resourceType":"Basic"}`, depth: jsMaxDepth, err: ErrNotResource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Resource
			n, err := r.ResetPrefix([]byte(tc.in), tc.depth)
			if n != tc.n {
				t.Fatalf("n = %d, want %d (err %v)", n, tc.n, err)
			}
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && !errors.Is(err, ErrNotResource) {
				t.Fatalf("err %v does not match ErrNotResource", err)
			}
			if errors.Is(err, ErrIncomplete) != errors.Is(tc.err, ErrIncomplete) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if r.Type != tc.typ || r.ID != tc.id {
				t.Fatalf("type %q id %q, want %q %q", r.Type, r.ID, tc.typ, tc.id)
			}
			if n > 0 && string(r.Raw) != tc.in[:n] {
				t.Fatalf("Raw %q, want %q", r.Raw, tc.in[:n])
			}
		})
	}
}

// checkPrefixAgainstReset checks ResetPrefix on data followed by tail
// against Reset on data alone.
func checkPrefixAgainstReset(t *testing.T, data, tail []byte) {
	t.Helper()
	buf := append(slices.Clip(data), tail...)
	var p, r Resource
	n, perr := p.ResetPrefix(buf, 0)
	rerr := r.Reset(data)
	object := bytes.TrimRight(data, " \t\r\n")
	switch {
	case len(data) == 0 || data[0] != '{' || !json.Valid(data):
		if n != 0 && n == len(data) {
			t.Fatalf("ResetPrefix took %q as an object", data)
		}
		return
	case n != len(object):
		t.Fatalf("n = %d for a %d-byte object (err %v)", n, len(data), perr)
	case errors.Is(perr, ErrAmbiguousType):
		return
	case (perr == nil) != (rerr == nil) || p.Type != r.Type || p.ID != r.ID:
		t.Fatalf("ResetPrefix: %v %q %q; Reset: %v %q %q", perr, p.Type, p.ID, rerr, r.Type, r.ID)
	}
	pf, _ := p.Fields()
	rf, _ := r.Fields()
	if len(pf) != len(rf) {
		t.Fatalf("%d members, Reset finds %d", len(pf), len(rf))
	}
	for k, v := range rf {
		if !bytes.Equal(pf[k], v) {
			t.Fatalf("member %q = %q, Reset finds %q", k, pf[k], v)
		}
	}
}

func TestResetPrefixExamples(t *testing.T) {
	for _, f := range resExampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := bytes.TrimSpace(data)
			checkPrefixAgainstReset(t, data, []byte(`,{"resourceType":"Patient"}`))
			for _, cut := range []int{1, len(data) / 2, len(data) - 1} {
				var r Resource
				if n, err := r.ResetPrefix(data[:cut], 0); n != 0 || !errors.Is(err, ErrNotResource) {
					t.Fatalf("cut at %d: n = %d, err %v", cut, n, err)
				}
			}
		})
	}
}

// FuzzResetPrefix checks ResetPrefix against Reset and encoding/json on
// any input: it never panics, finds exactly the object a valid input
// starts with, whatever follows it, and then reads it as Reset does; it
// reports ErrIncomplete exactly when encoding/json's Decoder meets an
// unexpected end of input.
func FuzzResetPrefix(f *testing.F) {
	for _, s := range []string{`{"resourceType":"Patient","id":"a"}`, `{"a":[1,{"b":"c\u00e9"}]}`, `{"resourceType":"A","resourceType":"B"}`, `{"a" : "\\"}`} {
		f.Add([]byte(s), []byte(`]}`))
	}
	if dir, ok := resTestDataDir(); ok {
		paths, _ := filepath.Glob(filepath.Join(dir, "r4-examples", "*.json"))
		for _, p := range paths[:min(len(paths), 50)] {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(bytes.TrimSpace(data), []byte(`,`))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data, tail []byte) {
		checkPrefixAgainstReset(t, data, tail)
		var r Resource
		n, err := r.ResetPrefix(data, 0)
		if n > 0 && !json.Valid(data[:n]) {
			t.Fatalf("ResetPrefix took %q, which is not valid JSON", data[:n])
		}
		if n == 0 && len(data) > 0 && data[0] == '{' {
			var v any
			eof := errors.Is(json.NewDecoder(bytes.NewReader(data)).Decode(&v), io.ErrUnexpectedEOF)
			if eof != errors.Is(err, ErrIncomplete) {
				t.Fatalf("ResetPrefix: %v; encoding/json finds an unexpected end: %v", err, eof)
			}
		}
	})
}

// TestEachPatient checks EachPatient against Patients on every R4 example
// and every entry of the Synthea Bundles.
func TestEachPatient(t *testing.T) {
	var checked int
	check := func(name string, raw []byte) {
		r, err := NewResource(raw)
		if err != nil {
			return
		}
		var got []string
		r.EachPatient(func(id []byte) { got = append(got, string(id)) })
		if want := r.Patients(); !slices.Equal(sortUnique(got), want) {
			t.Errorf("%s: EachPatient gives %v, Patients %v", name, got, want)
		}
		checked++
	}
	for _, sub := range []string{"r4-examples", "synthea"} {
		for _, f := range classifyGlob(t, sub, "*.json") {
			_, b, ok := classifyReadJSON(t, f)
			if !ok {
				continue
			}
			check(fileBase(f), b)
			var bundle struct {
				Entry []struct{ Resource json.RawMessage }
			}
			if json.Unmarshal(b, &bundle) == nil {
				for _, e := range bundle.Entry {
					check(fileBase(f)+" entry", e.Resource)
				}
			}
		}
	}
	if checked < 10000 {
		t.Errorf("only %d resources checked", checked)
	}
	r, _ := NewResource([]byte(`{"resourceType":"Patient","id":"p\u0031","link":[{"other":{"reference":"Patient\/q"}}]}`))
	var got []string
	r.EachPatient(func(id []byte) { got = append(got, string(id)) })
	if !slices.Equal(got, []string{"p1", "q"}) {
		t.Errorf("escaped ids: %v", got)
	}
}

// syntheaResources returns the resources of the Synthea Bundles, compacted
// when compact is set, and their total size.
func syntheaResources(b *testing.B, compact bool) ([][]byte, int64) {
	var out [][]byte
	var n int64
	for _, f := range classifyGlob(b, "synthea", "*.json") {
		_, data, ok := classifyReadJSON(b, f)
		if !ok {
			continue
		}
		var bundle struct {
			Entry []struct{ Resource json.RawMessage }
		}
		if json.Unmarshal(data, &bundle) != nil {
			continue
		}
		for _, e := range bundle.Entry {
			res := []byte(e.Resource)
			if compact {
				var buf bytes.Buffer
				if err := json.Compact(&buf, res); err != nil {
					b.Fatal(err)
				}
				res = buf.Bytes()
			}
			out = append(out, res)
			n += int64(len(res))
		}
	}
	return out, n
}

// BenchmarkResetPrefix measures ResetPrefix, the Bundle filter's one pass
// over each entry's resource, and EachPatient after it.
func BenchmarkResetPrefix(b *testing.B) {
	for _, compact := range []bool{false, true} {
		name := "pretty"
		if compact {
			name = "compact"
		}
		b.Run(name, func(b *testing.B) {
			docs, size := syntheaResources(b, compact)
			b.SetBytes(size)
			b.ReportAllocs()
			var r Resource
			for b.Loop() {
				for _, d := range docs {
					if n, err := r.ResetPrefix(d, 2); n == 0 || err != nil {
						b.Fatal(err)
					}
					r.EachPatient(func([]byte) {})
				}
			}
		})
	}
}
