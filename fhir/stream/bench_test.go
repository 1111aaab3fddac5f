package stream

import (
	"io"
	"testing"

	"github.com/ehigate/ehigate/fhir"
)

// benchWrite writes each body to w in 32 KiB writes, as a proxy copying a
// response does.
func benchWrite(b *testing.B, w io.WriteCloser, body []byte) {
	for p := body; len(p) > 0; {
		n := min(len(p), 32<<10)
		if _, err := w.Write(p[:n]); err != nil {
			b.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchFilter(b *testing.B, inspect func(*fhir.Resource) Verdict) {
	files := syntheaBundles(b)
	var size int64
	for _, f := range files {
		size += int64(len(f.data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			benchWrite(b, NewFilter(io.Discard, Options{Inspect: inspect, FixTotal: true}), f.data)
		}
	}
}

// BenchmarkFilterScan filters every Synthea Bundle keeping everything: the
// cost of counting resources and their patients.
func BenchmarkFilterScan(b *testing.B) { benchFilter(b, nil) }

// BenchmarkFilterRedact withholds about 10% of the resources.
func BenchmarkFilterRedact(b *testing.B) {
	benchFilter(b, func(r *fhir.Resource) Verdict {
		return Verdict{Withhold: picked([]byte(r.ID), 100), Tag: "bench"}
	})
}

// BenchmarkFilterNDJSON filters the Synthea resources as NDJSON lines,
// withholding about 10%.
func BenchmarkFilterNDJSON(b *testing.B) {
	var body []byte
	for _, f := range syntheaBundles(b) {
		body = append(body, ndjsonOf(b, f.data)...)
	}
	inspect := func(r *fhir.Resource) Verdict {
		return Verdict{Withhold: picked([]byte(r.ID), 100), Tag: "bench"}
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		benchWrite(b, NewFilter(io.Discard, Options{Kind: KindNDJSON, Inspect: inspect}), body)
	}
}

// BenchmarkRewriter rewrites http://hl7.org/fhir (frequent in Synthea
// profiles and code systems) in every Synthea Bundle.
func BenchmarkRewriter(b *testing.B) {
	files := syntheaBundles(b)
	var size int64
	for _, f := range files {
		size += int64(len(f.data))
	}
	reps := URLReplacements("http://hl7.org/fhir", "https://gateway.example/fhir")
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			benchWrite(b, NewRewriter(io.Discard, reps), f.data)
		}
	}
}
