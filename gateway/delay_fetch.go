package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/gateway/hold"
)

// HoldFetcher sends released holds' requests upstream (not through the
// gateway's pipeline: they were decided when they were held) and reads
// the answers. It implements hold.Fetcher.
type HoldFetcher struct {
	public    *url.URL
	upstream  *url.URL
	upBase    string
	transport http.RoundTripper
	timeout   time.Duration
	clock     func() time.Time
}

var _ hold.Fetcher = (*HoldFetcher)(nil)

// NewHoldFetcher returns a fetcher sending to upstream through transport;
// public is the gateway's base (for X-Forwarded-*), timeout bounds one
// fetch (default 5 minutes).
func NewHoldFetcher(public, upstream *url.URL, transport http.RoundTripper, timeout time.Duration) *HoldFetcher {
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	return &HoldFetcher{public: public, upstream: upstream, upBase: strings.TrimSuffix(upstream.EscapedPath(), "/"),
		transport: transport, timeout: timeout, clock: time.Now}
}

// Fetch implements hold.Fetcher.
func (f *HoldFetcher) Fetch(ctx context.Context, req *store.HeldRequest, max int64) (*store.HeldResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	u := *f.upstream
	escaped := f.upBase + "/" + req.Path
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, fmt.Errorf("gateway: held request path: %w", err)
	}
	u.Path, u.RawPath, u.RawQuery = p, escaped, req.Query
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("gateway: held request: %w", err)
	}
	hr.Header = req.Header.Clone()
	if hr.Header == nil {
		hr.Header = http.Header{}
	}
	hr.ContentLength = int64(len(req.Body))
	if len(req.Body) == 0 {
		hr.Body = http.NoBody
	}
	hr.Header.Set("X-Forwarded-Host", f.public.Host)
	if f.public.Scheme != "" {
		hr.Header.Set("X-Forwarded-Proto", f.public.Scheme)
	}
	if ae := hr.Header.Get("Accept-Encoding"); ae != "" {
		if acceptsGzip(ae) {
			hr.Header.Set("Accept-Encoding", "gzip")
		} else {
			hr.Header.Del("Accept-Encoding")
		}
	}
	resp, err := f.transport.RoundTrip(hr)
	if err != nil {
		return nil, fmt.Errorf("gateway: fetch held request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("gateway: fetch held request: %w", err)
	}
	if int64(len(body)) > max {
		return nil, hold.ErrTooLarge
	}
	h := replayHeader(resp.Header)
	return &store.HeldResponse{Status: resp.StatusCode, Header: h, Body: body, FetchedAt: f.clock().UTC()}, nil
}
