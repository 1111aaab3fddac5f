package gateway

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// replayTransport answers the proxied request of an exchange collecting a
// held request's answer with the answer kept since its release; every
// other request goes upstream. The answer then passes the same chain as a
// live one: URL rewriting, scanning, redaction, scope checks.
type replayTransport struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t replayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	x := exchangeOf(req.Context())
	if x == nil || x.replay == nil {
		return t.next.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close()
	}
	r := x.replay
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	return &http.Response{
		StatusCode: r.Status, Status: strconv.Itoa(r.Status) + " " + http.StatusText(r.Status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(r.Body)), ContentLength: int64(len(r.Body)),
		Request: req,
	}, nil
}

// CloseIdleConnections closes the upstream transport's idle connections.
func (t replayTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
