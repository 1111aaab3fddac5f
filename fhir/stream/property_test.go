package stream

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/ehigate/ehigate/fhir"
)

// picked reports whether a resource's bytes fall in a deterministic
// pseudo-random share of permille per thousand (FNV-1a of the bytes).
func picked(raw []byte, permille uint32) bool {
	h := uint32(2166136261)
	for _, c := range raw {
		h = (h ^ uint32(c)) * 16777619
	}
	return h%1000 < permille
}

// withholdShare returns an Inspect withholding picked resources.
func withholdShare(permille uint32) func(r *fhir.Resource) Verdict {
	return func(r *fhir.Resource) Verdict {
		if picked(r.Raw, permille) {
			return Verdict{Withhold: true, Tag: "share"}
		}
		return Verdict{}
	}
}

const propShare = 250 // withhold about a quarter

// wrappingBundle reports whether raw is a Bundle that only wraps entries.
func wrappingBundle(raw []byte) bool {
	var b struct{ ResourceType, Type string }
	if json.Unmarshal(raw, &b) != nil || b.ResourceType != "Bundle" {
		return false
	}
	return b.Type != "document" && b.Type != "message"
}

// checked tallies what checkBundle expects the Filter to report.
type checked struct {
	withheld int
	kept     int // kept resources that Stats.Resources counts
}

// checkBundle checks out, the filtered form of the Bundle in at nesting
// depth (1 for the top level), against an independent reading of in with
// encoding/json: every member but entry and total is byte-identical, the
// kept entries are exactly the entries whose resource is not picked, byte
// for byte (nested wrapping Bundles are checked recursively), no withheld
// resource appears, an entry array left empty is omitted, and total lost
// the withheld matches.
func checkBundle(t *testing.T, in, out []byte, depth int, c *checked) {
	t.Helper()
	var inM, outM map[string]json.RawMessage
	if err := json.Unmarshal(in, &inM); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &outM); err != nil {
		t.Fatalf("output is not a JSON object: %v", err)
	}
	for k, v := range inM {
		if k != "entry" && k != "total" && !bytes.Equal(outM[k], v) {
			t.Fatalf("member %q changed", k)
		}
	}
	for k := range outM {
		if _, ok := inM[k]; !ok {
			t.Fatalf("member %q added", k)
		}
	}
	var inE []json.RawMessage
	if raw, ok := inM["entry"]; ok {
		if err := json.Unmarshal(raw, &inE); err != nil {
			t.Fatal(err)
		}
	}
	type want struct {
		raw    json.RawMessage
		nested bool
	}
	var kept []want
	withheld, matches := 0, 0
	for _, e := range inE {
		var em map[string]json.RawMessage
		if err := json.Unmarshal(e, &em); err != nil {
			t.Fatal(err)
		}
		res, ok := em["resource"]
		switch {
		case !ok || res[0] != '{':
			kept = append(kept, want{raw: e})
		case wrappingBundle(res) && depth < maxBundleNesting:
			kept = append(kept, want{raw: e, nested: true})
		case picked(res, propShare):
			withheld++
			var s struct{ Mode string }
			_ = json.Unmarshal(em["search"], &s)
			if s.Mode == "" || s.Mode == "match" {
				matches++
			}
			if bytes.Contains(out, res) {
				t.Fatalf("withheld resource found in the output: %.80s", res)
			}
		default:
			kept = append(kept, want{raw: e})
			if !wrappingBundle(res) {
				c.kept++
			}
		}
	}
	c.withheld += withheld
	outRaw, hasEntry := outM["entry"]
	if len(kept) == 0 && withheld > 0 {
		if hasEntry {
			t.Fatalf("empty entry array not omitted: %s", outRaw)
		}
	} else if _, inHas := inM["entry"]; inHas {
		var outE []json.RawMessage
		if err := json.Unmarshal(outRaw, &outE); err != nil {
			t.Fatalf("entry: %v", err)
		}
		if len(outE) != len(kept) {
			t.Fatalf("%d entries, want %d", len(outE), len(kept))
		}
		for i, w := range kept {
			if !w.nested {
				if !bytes.Equal(outE[i], w.raw) {
					t.Fatalf("entry %d differs:\n got %.200s\nwant %.200s", i, outE[i], w.raw)
				}
				continue
			}
			var ei, eo map[string]json.RawMessage
			_ = json.Unmarshal(w.raw, &ei)
			if err := json.Unmarshal(outE[i], &eo); err != nil {
				t.Fatal(err)
			}
			for k, v := range ei {
				if k != "resource" && !bytes.Equal(eo[k], v) {
					t.Fatalf("nested entry %d: member %q changed", i, k)
				}
			}
			checkBundle(t, ei["resource"], eo["resource"], depth+1, c)
		}
	}
	if raw, ok := inM["total"]; ok {
		n, _ := strconv.Atoi(string(raw))
		if got := string(outM["total"]); got != strconv.Itoa(max(n-matches, 0)) {
			t.Fatalf("total %s, want %d - %d", got, n, matches)
		}
	}
}

// checkFiltered checks one filtered body: a wrapping Bundle entry by entry,
// anything else as one resource.
func checkFiltered(t *testing.T, in, out []byte, st Stats) {
	t.Helper()
	if !wrappingBundle(in) {
		if picked(bytes.TrimSpace(in), propShare) {
			if len(out) != 0 || !st.WithheldAll || st.WithheldCount != 1 {
				t.Fatalf("withheld resource written (%d bytes), stats %+v", len(out), st)
			}
		} else if !bytes.Equal(out, in) {
			t.Fatal("kept resource changed")
		}
		return
	}
	if !json.Valid(out) {
		t.Fatal("output is not valid JSON")
	}
	var c checked
	checkBundle(t, in, out, 1, &c)
	if st.WithheldCount != c.withheld {
		t.Fatalf("Stats.WithheldCount %d, want %d", st.WithheldCount, c.withheld)
	}
	n := 0
	for _, k := range st.Resources {
		n += k
	}
	if n != c.kept {
		t.Fatalf("Stats.Resources counts %d, want %d", n, c.kept)
	}
}

// chunkSizes are the Write sizes every property is also checked with.
func chunkSizes(t *testing.T, large bool) []int {
	if large && testing.Short() {
		return []int{1, 2, 3, 5, 8, 13, 21, 34, 55, 64}
	}
	s := make([]int, 64)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func testBundleProperty(t *testing.T, files []testFile, large bool) {
	for _, tf := range files {
		t.Run(tf.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{Inspect: withholdShare(propShare), FixTotal: true}
			out, st, err := runFilter(t, opts, tf.data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if st.Malformed || st.Uninspected != 0 {
				t.Fatalf("stats %+v", st)
			}
			checkFiltered(t, tf.data, out, st)
			for _, n := range chunkSizes(t, large) {
				got, _, err := runFilter(t, opts, tf.data, n)
				if err != nil || !bytes.Equal(got, out) {
					t.Fatalf("writes of %d bytes: output differs (err %v)", n, err)
				}
			}
		})
	}
}

func TestFilterPropertyR4Bundles(t *testing.T) { testBundleProperty(t, r4Bundles(t), false) }

func TestFilterPropertySynthea(t *testing.T) { testBundleProperty(t, syntheaBundles(t), true) }

// Every R4 example, Bundle or not, goes through a Filter: resources are
// withheld whole or kept byte for byte.
func TestFilterPropertyR4Examples(t *testing.T) {
	for _, tf := range loadFiles(t, "r4-examples", "*.json") {
		out, st, err := runFilter(t, Options{Inspect: withholdShare(propShare), FixTotal: true, Strict: true}, tf.data, 0)
		if err != nil {
			t.Fatalf("%s: %v", tf.name, err)
		}
		t.Run(tf.name, func(t *testing.T) { checkFiltered(t, tf.data, out, st) })
	}
}

func TestFilterPropertyNDJSON(t *testing.T) {
	for _, tf := range syntheaBundles(t) {
		t.Run(tf.name, func(t *testing.T) {
			t.Parallel()
			in := ndjsonOf(t, tf.data)
			var want bytes.Buffer
			withheld := 0
			for line := range bytes.Lines(in) {
				if picked(bytes.TrimSuffix(line, []byte("\n")), propShare) {
					withheld++
					continue
				}
				want.Write(line)
			}
			opts := Options{Kind: KindNDJSON, Inspect: withholdShare(propShare), Strict: true}
			out, st, err := runFilter(t, opts, in, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, want.Bytes()) {
				t.Fatal("NDJSON output is not the kept lines")
			}
			if st.WithheldCount != withheld || st.WithheldAll {
				t.Fatalf("stats %+v, want %d withheld", st, withheld)
			}
			for _, n := range chunkSizes(t, true) {
				got, _, err := runFilter(t, opts, in, n)
				if err != nil || !bytes.Equal(got, out) {
					t.Fatalf("writes of %d bytes: output differs (err %v)", n, err)
				}
			}
		})
	}
}
