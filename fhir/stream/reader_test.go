package stream

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

// countingSource is a ReadCloser over data that yields at most step bytes
// per Read and records how much was read and whether it was closed.
type countingSource struct {
	data   []byte
	step   int
	read   int
	closed bool
}

func (s *countingSource) Read(p []byte) (int, error) {
	if s.read == len(s.data) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), s.step)], s.data[s.read:])
	s.read += n
	return n, nil
}

func (s *countingSource) Close() error { s.closed = true; return nil }

// bigSearchset builds a searchset of n Observations, one in ten withheld
// by withholdW.
func bigSearchset(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","total":` + itoa(n) + `,"entry":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := "o" + itoa(i)
		if i%10 == 3 {
			id = "w" + itoa(i)
		}
		b.WriteString(`{"fullUrl":"http://up/fhir/Observation/` + id + `","resource":{"resourceType":"Observation","id":"` + id +
			`","status":"final","subject":{"reference":"Patient/p` + itoa(i%7) + `"}},"search":{"mode":"match"}}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func itoa(n int) string { return string(appendInt(nil, n)) }

// Filter then rewrite in memory, as the reference for chained runs.
func filterThenRewrite(t *testing.T, in []byte, opts Options, reps []Replacement) []byte {
	t.Helper()
	filtered, _, err := runFilter(t, opts, in, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rewriteRef(filtered, reps)
}

func TestReaderGzipChain(t *testing.T) {
	body := bigSearchset(2000)
	reps := URLReplacements("http://up/fhir", "https://gw.example/r4")
	opts := Options{Inspect: withholdW, FixTotal: true, Strict: true}
	want := filterThenRewrite(t, body, opts, reps)

	var zbody bytes.Buffer
	zw := gzip.NewWriter(&zbody)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	src := &countingSource{data: zbody.Bytes(), step: 4096}
	zr, err := gzip.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	var f *Filter
	r := NewReader(struct {
		io.Reader
		io.Closer
	}{zr, src}, func(w io.Writer) io.WriteCloser {
		gz := gzip.NewWriter(w)
		f = NewFilter(NewRewriter(gz, reps), opts)
		return f
	})
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil || !src.closed {
		t.Fatalf("Close = %v, source closed %v", err, src.closed)
	}
	gr, err := gzip.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(gr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("gunzip → filter → rewrite → gzip differs from filtering then rewriting (%d vs %d bytes)", len(got), len(want))
	}
	if st := f.Stats(); st.WithheldCount != 200 || st.Resources["Observation"] != 1800 || len(st.Patients) != 7 {
		t.Fatalf("stats: withheld %d, resources %v, patients %v", st.WithheldCount, st.Resources, st.Patients)
	}
}

// The reader produces output before the source is exhausted.
func TestReaderStreams(t *testing.T) {
	body := bigSearchset(5000)
	src := &countingSource{data: body, step: 1000}
	r := NewReader(src, func(w io.Writer) io.WriteCloser {
		return NewFilter(w, Options{Inspect: withholdW})
	})
	buf := make([]byte, 512)
	n, err := r.Read(buf)
	if err != nil || n == 0 {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if src.read >= len(body)/10 {
		t.Fatalf("first %d output bytes needed %d of %d input bytes", n, src.read, len(body))
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := runFilter(t, Options{Inspect: withholdW}, body, 0)
	if got := append(buf[:n:n], rest...); !bytes.Equal(got, want) {
		t.Fatal("streamed output differs")
	}
}

func TestReaderErrors(t *testing.T) {
	src := &countingSource{data: []byte(`{"resourceType":"Bundle","entry":[}`), step: 5}
	r := NewReader(src, func(w io.Writer) io.WriteCloser {
		return NewFilter(w, Options{Strict: true})
	})
	if _, err := io.ReadAll(r); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	// A truncated body is reported at the end of the source, by Close.
	src = &countingSource{data: []byte(`{"resourceType":"Patient","id":"a"`), step: 5}
	r = NewReader(src, func(w io.Writer) io.WriteCloser {
		return NewFilter(w, Options{Strict: true})
	})
	if _, err := io.ReadAll(r); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated: err = %v, want ErrMalformed", err)
	}
}
