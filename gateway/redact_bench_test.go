package gateway_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/stream"
	"github.com/ehigate/ehigate/gateway"
)

// BenchmarkRedactSynthea streams real Synthea patients (labels added as
// in TestSyntheaRedactionGolden) through the response filter: passthrough
// is what the gateway does for every response (scan and count), redact
// adds the policies' Withhold, disclosure entries and total fixing.
// MB/s is throughput; allocs/entry is per Bundle entry.
func BenchmarkRedactSynthea(b *testing.B) {
	var bodies [][]byte
	entries := 0
	for _, f := range smallestSynthea(b, 4) {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		body := labelSynthea(b, raw)
		bodies = append(bodies, body)
		entries += strings.Count(string(body), `"search":{"mode":"match"}`)
	}
	size := 0
	for _, body := range bodies {
		size += len(body)
	}
	d := engine.New(dataSet(b), engine.Options{}).Decide(context.Background(),
		&fhir.Request{Interaction: fhir.SearchType, ResourceType: "Observation"}, &decision.Requester{}, time.Now())
	for _, mode := range []string{"passthrough", "redact"} {
		b.Run(mode, func(b *testing.B) {
			opts := stream.Options{Kind: stream.KindJSON}
			if mode == "redact" {
				opts.Strict, opts.FixTotal = true, true
				opts.Inspect = func(r *fhir.Resource) stream.Verdict {
					w, tag := d.Withhold(r)
					return stream.Verdict{Withhold: w, Tag: tag}
				}
				opts.Disclose = func(ws []stream.Withheld) []byte { return gateway.DisclosureEntry("01JZ8Y3Q7W4M0V5T2K9D6R1C3B", d, ws) }
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, body := range bodies {
					f := stream.NewFilter(io.Discard, opts)
					for off := 0; off < len(body); off += 32 << 10 {
						if _, err := f.Write(body[off:min(off+32<<10, len(body))]); err != nil {
							b.Fatal(err)
						}
					}
					if err := f.Close(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N*entries), "allocs/entry")
		})
	}
}
