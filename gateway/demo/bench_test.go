package demo

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discard is a ResponseWriter that counts the body and keeps it only when
// keep is set.
type discard struct {
	h    http.Header
	n    int64
	keep bool
	body []byte
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	if d.keep {
		d.body = append(d.body, p...)
	}
	return len(p), nil
}
func (d *discard) WriteHeader(int) {}

// BenchmarkSearchPage100 serves one 100-entry searchset page from a store
// of 300 generated patients (about 12,000 resources).
func BenchmarkSearchPage100(b *testing.B) {
	s := NewServer(Options{BasePath: "/fhir"})
	for _, r := range Generate(300, 1, testNow) {
		if err := s.Put(r); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name, url, encoding string
	}{
		{name: "type", url: "/fhir/Observation?category=vital-signs&_count=100"},
		{name: "patient-everything", url: "/fhir/Patient/demo-7/$everything?_count=100"},
		{name: "next-page", url: "/fhir?_getpages=T2JzZXJ2YXRpb24_Y2F0ZWdvcnk9dml0YWwtc2lnbnM&_getpagesoffset=300&_count=100&_bundletype=searchset"},
		{name: "type-gzip", url: "/fhir/Observation?category=vital-signs&_count=100", encoding: "gzip"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.url, nil)
			if bc.encoding != "" {
				req.Header.Set("Accept-Encoding", bc.encoding)
			}
			w := &discard{h: http.Header{}, keep: true}
			s.ServeHTTP(w, req)
			if w.n == 0 {
				b.Fatal("empty response")
			}
			b.SetBytes(w.n)
			w.keep = false
			entries := bytes.Count(w.body, []byte(`"fullUrl"`))
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				s.ServeHTTP(w, req)
			}
			if bc.encoding == "" {
				b.ReportMetric(float64(entries), "entries")
			}
		})
	}
}
