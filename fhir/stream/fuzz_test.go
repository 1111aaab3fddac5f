package stream

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// addSeeds adds the R4 examples and the golden inputs to a fuzz corpus.
func addSeeds(f *testing.F, add func(data []byte)) {
	for _, s := range []string{
		`{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"resource":{"resourceType":"Patient","id":"w1"}},{"resource":{"resourceType":"Patient","id":"a"}}]}`,
		`{"entry":[{"resource":{"entry":[{"resource":{"id":"w"}}],"resourceType":"Bundle"}}],"resourceType":"Bundle","total":1}`,
		"{\"resourceType\":\"Patient\",\"id\":\"w\"}\n{\"resourceType\":\"Patient\",\"id\":\"a\"}\n",
		`{"resourceType":"Bundle","entry":[]}`,
	} {
		add([]byte(s))
	}
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.in.json"))
	if dir, ok := dataDir(); ok {
		more, _ := filepath.Glob(filepath.Join(dir, "r4-examples", "*.json"))
		paths = append(paths, more...)
	}
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			add(data)
		}
	}
}

// FuzzFilter checks, for any body and options: no panic; a Strict run
// either fails with ErrMalformed or writes valid JSON (NDJSON: valid
// lines), and accepts exactly what encoding/json accepts; when nothing is
// withheld the output is the input; the fast path decides as the lexer
// alone does; and the output does not depend on how the body is split
// into writes.
func FuzzFilter(f *testing.F) {
	addSeeds(f, func(data []byte) {
		f.Add(data, uint8(0))
		f.Add(data, uint8(2|4|8|32))
	})
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opts := Options{
			Strict:   mode&2 != 0,
			FixTotal: mode&4 != 0,
			Inspect:  withholdShare([]uint32{0, 250, 1000}[(mode>>3)%4%3]),
		}
		if mode&1 != 0 {
			opts.Kind = KindNDJSON
		}
		if mode&32 != 0 {
			opts.Disclose = discloseCount
			opts.Replace = replaceForbidden
		}
		if mode&64 != 0 {
			opts.MaxResource = 64
		}
		if mode&128 != 0 {
			opts.Inspect = nil
		}
		out, st, err := runFilter(t, opts, data, 0)
		if err != nil && !opts.Strict {
			t.Fatalf("error without Strict: %v", err)
		}
		valid := json.Valid(data)
		if opts.Kind == KindNDJSON {
			valid = true
			for line := range bytes.SplitSeq(data, []byte("\n")) {
				if l := bytes.TrimSpace(line); len(l) > 0 && !json.Valid(l) {
					valid = false
				}
			}
		}
		if valid == st.Malformed {
			t.Fatalf("Malformed = %v for a body that encoding/json finds valid = %v", st.Malformed, valid)
		}
		if opts.Strict && err == nil {
			switch {
			case opts.Kind == KindNDJSON:
				for line := range bytes.Lines(out) {
					if l := bytes.TrimSpace(line); len(l) > 0 && !json.Valid(l) {
						t.Fatalf("invalid NDJSON line %q", l)
					}
				}
			case st.WithheldAll:
				if len(bytes.TrimSpace(out)) != 0 {
					t.Fatalf("output after the top-level resource was withheld: %q", out)
				}
			case !json.Valid(out):
				t.Fatalf("invalid JSON output %q", out)
			}
		}
		if st.WithheldCount == 0 && !opts.FixTotal && (err == nil || !opts.Strict) && !bytes.Equal(out, data) {
			t.Fatalf("nothing withheld but output %q differs from input", out)
		}
		slow, slowSt, slowErr := runFilterPath(t, opts, data, 0, true)
		if (err == nil) != (slowErr == nil) || !bytes.Equal(slow, out) || !reflect.DeepEqual(slowSt, st) {
			t.Fatalf("fast path: %q %+v err %v; lexer alone: %q %+v err %v", out, st, err, slow, slowSt, slowErr)
		}
		if opts.MaxResource != 0 {
			return // where a capture overflows depends on the writes
		}
		for _, n := range []int{1, 7} {
			got, st2, err2 := runFilter(t, opts, data, n)
			if (err == nil) != (err2 == nil) || st2.WithheldCount != st.WithheldCount {
				t.Fatalf("writes of %d: err %v (whole: %v), withheld %d (whole: %d)", n, err2, err, st2.WithheldCount, st.WithheldCount)
			}
			if err == nil && !bytes.Equal(got, out) {
				t.Fatalf("writes of %d: output %q, whole: %q", n, got, out)
			}
		}
	})
}

// FuzzRewriter checks that the streaming Rewriter equals the reference
// for any body and any split into writes.
func FuzzRewriter(f *testing.F) {
	addSeeds(f, func(data []byte) { f.Add(data, uint64(len(data))) })
	f.Add([]byte(`x http://hl7.org/fhir http:\/\/hl7.org\/fhir\/a abcab xyz/`), uint64(3))
	repSets := [][]Replacement{
		URLReplacements("http://hl7.org/fhir", "https://gw.example/r4"),
		{
			{From: []byte("abc"), To: []byte("<1>")},
			{From: []byte("ab"), To: []byte("<2>")},
			{From: []byte("b"), To: nil},
			{From: []byte("xyz/"), To: []byte("Z")},
		},
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, seed>>7))
		for _, reps := range repSets {
			want := rewriteRef(data, reps)
			sizes := make([]int, 1+rnd.IntN(8))
			for k := range sizes {
				sizes[k] = 1 + rnd.IntN(48)
			}
			if got := rewriteChunks(t, data, reps, sizes); !bytes.Equal(got, want) {
				t.Fatalf("chunks %v: %q, want %q", sizes, got, want)
			}
		}
	})
}
