package gateway

import (
	"go.opentelemetry.io/otel/propagation"

	"context"
	"errors"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/fhir/stream"
)

func (h *Handler) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        h.rewrite,
		Transport:      h.opts.Transport,
		FlushInterval:  100 * time.Millisecond,
		BufferPool:     newBufferPool(),
		ModifyResponse: h.modifyResponse,
		ErrorHandler:   h.proxyError,
		// The proxy's own log lines could carry URLs (and so PHI): the
		// gateway reports errors itself, without them.
		ErrorLog: log.New(discard{}, "", 0),
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// forward sends an allowed request upstream and streams the answer back.
func (x *exchange) forward() {
	ctx, span := x.upstreamContext()
	defer span.End()
	ctx = context.WithValue(ctx, exchangeKey{}, x)
	out := x.r.WithContext(ctx)
	if x.body != nil {
		rc, err := x.body.reader()
		if err != nil {
			x.respondFailure(err)
			return
		}
		out.Body = rc
		out.ContentLength = x.body.size
		out.Header = out.Header.Clone()
		out.Header.Del("Transfer-Encoding")
	}
	x.h.proxy.ServeHTTP(x.w, out)
}

// rewrite points the outbound request at the upstream: the path below the
// public base is appended to the upstream base unchanged (it was validated
// by classification), the query is kept, and X-Forwarded-* are set.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	rel, _ := h.relPath(pr.In.URL.EscapedPath())
	u := *h.opts.Upstream
	escaped := h.upBase
	if rel != "" {
		escaped += "/" + rel
	}
	if escaped == "" {
		escaped = "/"
	}
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path = p
		u.RawPath = escaped
	}
	u.RawQuery = pr.In.URL.RawQuery
	pr.Out.URL = &u
	pr.Out.Host = ""
	if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		pr.Out.Header["X-Forwarded-For"] = prior
	}
	pr.SetXForwarded()
	// The upstream continues the request's trace (W3C Trace Context).
	traceContext.Inject(pr.Out.Context(), propagation.HeaderCarrier(pr.Out.Header))
	if pr.In.TLS == nil {
		if p := h.opts.PublicBase.Scheme; p != "" {
			pr.Out.Header.Set("X-Forwarded-Proto", p)
		}
	}
	pr.Out.Header.Del(HeaderDecision)
	// Only encodings the gateway can read on the way back.
	if ae := pr.In.Header.Get("Accept-Encoding"); ae != "" {
		if acceptsGzip(ae) {
			pr.Out.Header.Set("Accept-Encoding", "gzip")
		} else {
			pr.Out.Header.Del("Accept-Encoding")
		}
	}
}

// acceptsGzip reports whether an Accept-Encoding value accepts gzip
// (explicitly or by "*") with a non-zero quality.
func acceptsGzip(ae string) bool {
	ok := false
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, found := strings.CutPrefix(strings.TrimSpace(p), "q="); found {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if name == "gzip" {
			return q > 0
		}
		ok = q > 0
	}
	return ok
}

// proxyError answers a failed round trip: the upstream was down, slow or
// answered garbage, or the client went away.
func (h *Handler) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	x := exchangeOf(r.Context())
	if x == nil {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	cause := upstreamError(err)
	reason := failureOf(cause).reason
	if !errors.Is(cause, ErrClientGone) && !errors.Is(cause, ErrBodyTooLarge) && !errors.Is(cause, ErrRequestBody) {
		x.upstreamErr = true
		x.countUpstreamError(reason)
	}
	h.log.WarnContext(r.Context(), "upstream round trip failed", "decision", x.id, "reason", reason)
	x.respondFailure(cause)
}

// rewriteHeaders points upstream URLs in response headers at the gateway.
func (h *Handler) rewriteHeaders(hdr http.Header) {
	for _, k := range []string{"Location", "Content-Location", "Link"} {
		vs := hdr.Values(k)
		for i, v := range vs {
			vs[i] = rewriteString(v, h.toPublic)
		}
	}
}

// rewriteString applies URL replacements to a short string.
func rewriteString(s string, reps []stream.Replacement) string {
	var b strings.Builder
	w := stream.NewRewriter(&b, reps)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}
