package stream

import (
	"bytes"
	"encoding/json"
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

// compactFiles returns files passed through json.Compact, the form EHRs
// send.
func compactFiles(b *testing.B, files []testFile) []testFile {
	out := make([]testFile, len(files))
	for i, f := range files {
		var buf bytes.Buffer
		if err := json.Compact(&buf, f.data); err != nil {
			b.Fatal(err)
		}
		out[i] = testFile{name: f.name, data: buf.Bytes()}
	}
	return out
}

func benchFilter(b *testing.B, inspect func(*fhir.Resource) Verdict, compact bool) {
	files := syntheaBundles(b)
	if compact {
		files = compactFiles(b, files)
	}
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
func BenchmarkFilterScan(b *testing.B) { benchFilter(b, nil, false) }

// BenchmarkFilterScanCompact is BenchmarkFilterScan on compact JSON.
func BenchmarkFilterScanCompact(b *testing.B) { benchFilter(b, nil, true) }

// redactTenth withholds about 10% of the resources, by id.
func redactTenth(r *fhir.Resource) Verdict {
	return Verdict{Withhold: picked([]byte(r.ID), 100), Tag: "bench"}
}

// BenchmarkFilterRedact withholds about 10% of the resources.
func BenchmarkFilterRedact(b *testing.B) { benchFilter(b, redactTenth, false) }

// BenchmarkFilterRedactCompact is BenchmarkFilterRedact on compact JSON.
func BenchmarkFilterRedactCompact(b *testing.B) { benchFilter(b, redactTenth, true) }

// BenchmarkFilterNDJSON filters the Synthea resources as NDJSON lines,
// withholding about 10%.
func BenchmarkFilterNDJSON(b *testing.B) {
	var body []byte
	for _, f := range syntheaBundles(b) {
		body = append(body, ndjsonOf(b, f.data)...)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		benchWrite(b, NewFilter(io.Discard, Options{Kind: KindNDJSON, Inspect: redactTenth}), body)
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
