package demo

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
)

// recorder buffers a sub-request's response.
type recorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

// Header returns the response header.
func (r *recorder) Header() http.Header { return r.h }

// Write buffers body bytes.
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(p)
}

// WriteHeader records the first status.
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// subGet serves a GET entry as a sub-request and records its response.
func (c *call) subGet(op *txOp) {
	rec := &recorder{h: http.Header{}}
	req := c.r.Clone(c.r.Context())
	req.Method = get
	req.Body = http.NoBody
	req.Header = http.Header{}
	if op.e.Request.IfNoneMatch != "" {
		req.Header.Set("If-None-Match", op.e.Request.IfNoneMatch)
	}
	if op.e.Request.IfModifiedSince != "" {
		req.Header.Set("If-Modified-Since", op.e.Request.IfModifiedSince)
	}
	vals, _ := url.ParseQuery(op.query)
	sub := &call{s: c.s, w: rec, r: req, base: c.base, path: op.path, vals: vals}
	sub.route()
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	op.out = bentry{status: statusLine(rec.status), etag: rec.h.Get("ETag"), location: rec.h.Get("Content-Location")}
	body := slices.Clip(rec.buf.Bytes())
	switch {
	case len(body) == 0:
	case rec.status >= 400:
		op.out.outcome = body
	default:
		op.out.resource = body
	}
}
