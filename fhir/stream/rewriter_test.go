package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// rewriteRef is the non-streaming reference: at each position the first
// Replacement whose From occurs there and ends at a URL boundary wins.
func rewriteRef(in []byte, reps []Replacement) []byte {
	const boundary = "/?#\"'< \t\r\n,)]}\\"
	var out []byte
	for i := 0; i < len(in); {
		matched := false
		for _, rep := range reps {
			if len(rep.From) == 0 || !bytes.HasPrefix(in[i:], rep.From) {
				continue
			}
			if e := i + len(rep.From); e == len(in) || strings.IndexByte(boundary, in[e]) >= 0 {
				out = append(out, rep.To...)
				i = e
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, in[i])
			i++
		}
	}
	return out
}

// rewriteChunks runs a Rewriter over in, written in the given chunk sizes
// (cycled; the rest at once when sizes is empty).
func rewriteChunks(t testing.TB, in []byte, reps []Replacement, sizes []int) []byte {
	t.Helper()
	var out bytes.Buffer
	w := NewRewriter(&out, reps)
	for k := 0; len(in) > 0; k++ {
		n := len(in)
		if len(sizes) > 0 {
			n = min(n, sizes[k%len(sizes)])
		}
		if m, err := w.Write(in[:n]); err != nil || m != n {
			t.Fatalf("Write = %d, %v", m, err)
		}
		in = in[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestURLReplacements(t *testing.T) {
	tests := []struct {
		from, to string
		want     []string // From=>To
	}{
		{"http://up/fhir", "https://gw.example/r4", []string{
			"http://up/fhir=>https://gw.example/r4",
			"http://up:80/fhir=>https://gw.example/r4",
			`http:\/\/up\/fhir=>https:\/\/gw.example\/r4`,
			`http:\/\/up:80\/fhir=>https:\/\/gw.example\/r4`,
		}},
		{"https://up:443/fhir/", "https://gw/", []string{
			"https://up:443/fhir=>https://gw",
			"https://up/fhir=>https://gw",
			`https:\/\/up:443\/fhir=>https:\/\/gw`,
			`https:\/\/up\/fhir=>https:\/\/gw`,
		}},
		{"http://up:8080/fhir", "http://gw/fhir", []string{
			"http://up:8080/fhir=>http://gw/fhir",
			`http:\/\/up:8080\/fhir=>http:\/\/gw\/fhir`,
		}},
		{"http://up/fhir", "http://up/fhir/", nil},
		{"", "http://gw", nil},
	}
	for _, tc := range tests {
		t.Run(tc.from, func(t *testing.T) {
			var got []string
			for _, r := range URLReplacements(tc.from, tc.to) {
				got = append(got, string(r.From)+"=>"+string(r.To))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestRewriter(t *testing.T) {
	reps := URLReplacements("http://up/fhir", "https://gw.example/r4")
	tests := []struct {
		name, in, want string
	}{
		{"json fullUrl", `{"fullUrl":"http://up/fhir/Patient/1"}`, `{"fullUrl":"https://gw.example/r4/Patient/1"}`},
		{"whole value", `{"url":"http://up/fhir"}`, `{"url":"https://gw.example/r4"}`},
		{"query", `"http://up/fhir?_getpages=abc&x=http://up/fhir"`, `"https://gw.example/r4?_getpages=abc&x=https://gw.example/r4"`},
		{"fragment and quotes", `http://up/fhir#a 'http://up/fhir'`, `https://gw.example/r4#a 'https://gw.example/r4'`},
		{"punctuation", `(http://up/fhir),[http://up/fhir]{http://up/fhir}`, `(https://gw.example/r4),[https://gw.example/r4]{https://gw.example/r4}`},
		{"whitespace", "http://up/fhir http://up/fhir\thttp://up/fhir\r\nhttp://up/fhir\n", "https://gw.example/r4 https://gw.example/r4\thttps://gw.example/r4\r\nhttps://gw.example/r4\n"},
		{"end of input", `see http://up/fhir`, `see https://gw.example/r4`},
		{"not a boundary", `http://up/fhir2 http://up/fhirX http://up/fhir.x http://up/fhir:1`, `http://up/fhir2 http://up/fhirX http://up/fhir.x http://up/fhir:1`},
		{"another host", `http://up.example/fhir http://upx/fhir`, `http://up.example/fhir http://upx/fhir`},
		{"escaped slashes", `{"url":"http:\/\/up\/fhir\/Patient\/1"}`, `{"url":"https:\/\/gw.example\/r4\/Patient\/1"}`},
		{"default port", `"http://up:80/fhir/Patient"`, `"https://gw.example/r4/Patient"`},
		{"back to back", `http://up/fhirhttp://up/fhir/`, `http://up/fhirhttps://gw.example/r4/`},
		{"partial at end", `x http://up/fh`, `x http://up/fh`},
		{"xml", `<Bundle xmlns="http://hl7.org/fhir"><link><url value="http://up/fhir/Patient?page=2"/></link><entry><fullUrl value="http://up/fhir/Patient/1"/></entry><text><div><a href='http://up/fhir'>http://up/fhir</a></div></text></Bundle>`,
			`<Bundle xmlns="http://hl7.org/fhir"><link><url value="https://gw.example/r4/Patient?page=2"/></link><entry><fullUrl value="https://gw.example/r4/Patient/1"/></entry><text><div><a href='https://gw.example/r4'>https://gw.example/r4</a></div></text></Bundle>`},
		{"ndjson", "{\"u\":\"http://up/fhir/A\"}\n{\"u\":\"http://up/fhir\"}\n", "{\"u\":\"https://gw.example/r4/A\"}\n{\"u\":\"https://gw.example/r4\"}\n"},
		{"empty", ``, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(rewriteRef([]byte(tc.in), reps)); got != tc.want {
				t.Fatalf("reference:\n got %s\nwant %s", got, tc.want)
			}
			in := []byte(tc.in)
			check := func(how string, sizes []int) {
				if got := string(rewriteChunks(t, in, reps, sizes)); got != tc.want {
					t.Fatalf("%s:\n got %s\nwant %s", how, got, tc.want)
				}
			}
			check("one write", nil)
			check("byte by byte", []int{1})
			for cut := 1; cut < len(in); cut++ { // every split point
				check(fmt.Sprintf("split at %d", cut), []int{cut, len(in)})
			}
			rnd := rand.New(rand.NewPCG(1, uint64(len(in))))
			for range 20 {
				sizes := make([]int, 8)
				for k := range sizes {
					sizes[k] = 1 + rnd.IntN(40)
				}
				check(fmt.Sprintf("chunks %v", sizes), sizes)
			}
		})
	}
}

// Replacements without a common prefix, some a prefix of another.
func TestRewriterUnrelatedPatterns(t *testing.T) {
	reps := []Replacement{
		{From: []byte("abc"), To: []byte("<1>")},
		{From: []byte("ab"), To: []byte("<2>")},
		{From: []byte("b"), To: []byte("")},
		{From: []byte("xyz/"), To: []byte("Z")},
	}
	in := []byte("ab abc abd b/ xb xyz// a b\\ abcab")
	want := rewriteRef(in, reps)
	if string(want) != "<2> <1> abd / x Z/ a \\ abc<2>" {
		t.Fatalf("reference %q", want)
	}
	for n := 1; n <= len(in); n++ {
		if got := rewriteChunks(t, in, reps, []int{n}); !bytes.Equal(got, want) {
			t.Fatalf("chunks of %d: %q, want %q", n, got, want)
		}
	}
}

func TestRewriterNoReplacements(t *testing.T) {
	in := []byte(`{"a":"http://up/fhir"}`)
	if got := rewriteChunks(t, in, nil, []int{3}); !bytes.Equal(got, in) {
		t.Fatalf("got %s", got)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestRewriterErrors(t *testing.T) {
	w := NewRewriter(failWriter{}, URLReplacements("http://up", "http://gw"))
	if _, err := w.Write([]byte("0123456789 http://up/x")); err == nil {
		t.Fatal("no error from a failing writer")
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Fatal("error not sticky")
	}
	w = NewRewriter(io.Discard, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// closeRecorder records whether it was closed.
type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestRewriterClosesDownstream(t *testing.T) {
	var c closeRecorder
	w := NewRewriter(&c, URLReplacements("http://up/fhir", "http://gw"))
	if _, err := io.WriteString(w, "a http://up/fhir"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !c.closed || c.String() != "a http://gw" {
		t.Fatalf("closed %v, output %q", c.closed, c.String())
	}
}
