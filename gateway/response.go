package gateway

import (
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/stream"
)

// bodyKind is how a response body is treated.
type bodyKind uint8

const (
	bodyOpaque bodyKind = iota // passed through untouched (images, PDFs, ...)
	bodyText                   // URLs rewritten (XML, text)
	bodyJSON                   // URLs rewritten, resources scanned (and filtered)
	bodyNDJSON                 // same, one resource per line
)

func kindOf(contentType string) bodyKind {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return bodyOpaque
	}
	switch {
	case mt == "application/fhir+ndjson", mt == "application/ndjson", mt == "application/x-ndjson":
		return bodyNDJSON
	case mt == "application/fhir+json", mt == "application/json", mt == "application/json+fhir":
		return bodyJSON
	case textual(contentType):
		return bodyText
	}
	return bodyOpaque
}

// modifyResponse runs when upstream headers arrive, before anything is
// sent to the client: it rewrites URLs in headers, learns Bulk Data links
// and sets up the streaming body chain.
func (h *Handler) modifyResponse(resp *http.Response) error {
	x := exchangeOf(resp.Request.Context())
	if x == nil {
		return nil
	}
	x.upstreamStatus = resp.StatusCode
	x.detectRefusal(resp)
	resp.Header.Del(HeaderDecision)
	h.rewriteHeaders(resp.Header)
	if err := x.learnLinks(resp); err != nil {
		return err
	}
	return x.wrapBody(resp)
}

// wrapBody replaces resp.Body with the chain that scans, filters and
// rewrites it as it streams: [gunzip] → filter → rewriter → [gzip].
func (x *exchange) wrapBody(resp *http.Response) error {
	if resp.Body == nil || resp.Body == http.NoBody || resp.Request.Method == http.MethodHead {
		return nil
	}
	kind := kindOf(resp.Header.Get("Content-Type"))
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if x.redacting() && resp.ContentLength != 0 &&
		(kind == bodyOpaque || kind == bodyText || enc != "" && enc != "identity" && enc != "gzip") {
		// Nothing in it could be withheld: it must not go out at all.
		x.refuseUnfilterable(resp)
		return nil
	}
	if kind == bodyOpaque {
		return nil
	}
	if enc != "" && enc != "identity" && enc != "gzip" {
		x.flags = append(x.flags, decision.FlagResponseNotInspected)
		return nil
	}
	src := resp.Body
	if enc == "gzip" {
		zr, err := gzip.NewReader(src)
		if err != nil {
			src.Close()
			return fmt.Errorf("%w: gzip: %w", ErrUpstreamInvalid, err)
		}
		orig := resp.Body
		src = readCloser{Reader: zr, close: func() error { zr.Close(); return orig.Close() }}
	}
	lim := x.h.opts.Limits
	// Each writer closes the next when closed, so closing the head
	// flushes the whole chain.
	resp.Body = stream.NewReader(src, func(w io.Writer) io.WriteCloser {
		out := w
		if enc == "gzip" {
			out = gzip.NewWriter(out)
		}
		head := stream.NewRewriter(out, x.h.toPublic)
		if kind == bodyJSON || kind == bodyNDJSON {
			opts := stream.Options{Kind: stream.KindJSON, MaxResource: int(lim.MaxResource)}
			if kind == bodyNDJSON {
				opts.Kind = stream.KindNDJSON
			}
			x.filterOptions(&opts)
			if x.redacting() {
				head = x.guardedFilter(head, opts)
			} else {
				x.filter = stream.NewFilter(head, opts)
				head = x.filter
			}
		}
		return head
	})
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	return nil
}

// filterOptions sets what the decision asks of the response filter.
func (x *exchange) filterOptions(o *stream.Options) {
	defer x.watchOutcomes(o)
	wh := x.dec.Withhold
	if wh == nil {
		return
	}
	o.Strict = true
	o.FixTotal = true
	o.Inspect = func(r *fhir.Resource) stream.Verdict {
		w, policy := wh(r)
		return stream.Verdict{Withhold: w, Tag: policy}
	}
	if x.dec.Disclose {
		o.Disclose = func(ws []stream.Withheld) []byte { return disclosureEntry(x.id, x.dec, ws, x.releaseOf) }
	}
	// A batch or transaction answer keeps one entry per request entry.
	o.Replace = func(w stream.Withheld) []byte { return responseEntry(x.id, x.dec, w, x.releaseOf) }
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
