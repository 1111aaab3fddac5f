package demo

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// acceptsGzip reports whether Accept-Encoding allows gzip.
func acceptsGzip(h http.Header) bool {
	for _, line := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(line, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

var gzips = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// gzipWriter compresses a response body. Headers are committed at the first
// body byte, so that responses without a body are sent uncompressed.
type gzipWriter struct {
	http.ResponseWriter
	gz     *gzip.Writer
	status int
}

func newGzipWriter(w http.ResponseWriter) *gzipWriter { return &gzipWriter{ResponseWriter: w} }

// WriteHeader records the status; bodiless statuses go out at once.
func (g *gzipWriter) WriteHeader(status int) {
	if g.status != 0 || g.gz != nil {
		return
	}
	if status == http.StatusNoContent || status == http.StatusNotModified || status < 200 {
		g.status = -1
		g.ResponseWriter.WriteHeader(status)
		return
	}
	g.status = status
}

// Write compresses p, starting the compressed body on first use.
func (g *gzipWriter) Write(p []byte) (int, error) {
	if g.status == -1 {
		return g.ResponseWriter.Write(p)
	}
	if g.gz == nil {
		if len(p) == 0 {
			return 0, nil
		}
		h := g.Header()
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		if g.status == 0 {
			g.status = http.StatusOK
		}
		g.ResponseWriter.WriteHeader(g.status)
		g.gz = gzips.Get().(*gzip.Writer)
		g.gz.Reset(g.ResponseWriter)
	}
	return g.gz.Write(p)
}

// Flush sends what is compressed so far.
func (g *gzipWriter) Flush() {
	if g.gz != nil {
		_ = g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Close ends the compressed stream, or sends a deferred bodiless status.
func (g *gzipWriter) Close() error {
	if g.gz == nil {
		if g.status > 0 {
			g.ResponseWriter.WriteHeader(g.status)
		}
		return nil
	}
	err := g.gz.Close()
	g.gz.Reset(nil)
	gzips.Put(g.gz)
	g.gz = nil
	return err
}
