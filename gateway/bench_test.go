package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
)

// searchPageHandler serves one searchset Bundle of n real Synthea
// Observations for every request.
func searchPageHandler(tb testing.TB, n int) http.Handler {
	ehr := loadSynthea(tb, smallestSynthea(tb, 3)...)
	var keys []string
	for _, p := range ehr.patients {
		for _, k := range ehr.byPatient[p] {
			if len(keys) < n && bytes.HasPrefix([]byte(k), []byte("Observation/")) {
				keys = append(keys, k)
			}
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		ehr.bundle(w, r, keys, "http://"+r.Host+"/baseR4/Observation?patient=p", 0, 0)
	})
}

// BenchmarkGatewaySearch measures the whole pipeline in process: classify,
// decide, durable record (SQLite, group commit), stream, scan, rewrite and
// complete, for a 20-entry Synthea search page.
func BenchmarkGatewaySearch(b *testing.B) {
	hs := newHarness(&testing.T{}, searchPageHandler(b, 20))
	c := client()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	url := hs.base + "/Observation?patient=p"
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || n == 0 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.StopTimer()
	hs.close()
	_ = fmt.Sprint
	_ = json.Valid
	_ = os.Stderr
}
