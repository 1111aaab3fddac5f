package gateway

import (
	"go.opentelemetry.io/otel/trace"

	"context"
	"errors"
	"fmt"
	"github.com/ehigate/ehigate/telemetry"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/stream"
	"github.com/ehigate/ehigate/gateway/throttle"
)

// Handler is the gateway's FHIR front: one http.Handler serving the public
// FHIR base.
type Handler struct {
	opts       Options
	basePath   string // public base path without trailing slash ("" for root)
	upBase     string // upstream base path without trailing slash
	classifier *fhir.Classifier
	proxy      *httputil.ReverseProxy
	ids        *idSource
	clock      func() time.Time
	log        *slog.Logger
	toPublic   []stream.Replacement
	toUpstream []stream.Replacement
	tracer     trace.Tracer
	metrics    *telemetry.Metrics
}

// New builds a Handler.
func New(opts Options) (*Handler, error) {
	if opts.PublicBase == nil || opts.Upstream == nil {
		return nil, errors.New("gateway: public base and upstream URLs are required")
	}
	if opts.Journal == nil {
		return nil, errors.New("gateway: a journal is required")
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport(TransportOptions{})
	}
	// A held request's answer, kept since its release, is served through
	// the same response chain as a live one.
	opts.Transport = replayTransport{next: opts.Transport}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Limiter == nil {
		opts.Limiter = throttle.NewMemory(opts.Clock)
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	if opts.Tracer == nil {
		opts.Tracer = noopTracer
	}
	h := &Handler{
		tracer:     opts.Tracer,
		metrics:    opts.Metrics,
		opts:       opts,
		basePath:   strings.TrimSuffix(opts.PublicBase.EscapedPath(), "/"),
		upBase:     strings.TrimSuffix(opts.Upstream.EscapedPath(), "/"),
		ids:        newIDSource(),
		clock:      opts.Clock,
		log:        opts.Logger,
		toPublic:   stream.URLReplacements(baseString(opts.Upstream), baseString(opts.PublicBase)),
		toUpstream: stream.URLReplacements(baseString(opts.PublicBase), baseString(opts.Upstream)),
	}
	h.classifier = fhir.NewClassifier(fhir.ClassifierOptions{BulkLookup: h.lookupLink, MaxBodyBytes: opts.Limits.MaxRequestBody})
	h.proxy = h.newProxy()
	return h, nil
}

func baseString(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment = "", ""
	return strings.TrimSuffix(c.String(), "/")
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	now := h.clock()
	r, span := h.startRequestSpan(r)
	x := &exchange{h: h, r: r, w: &responseWriter{ResponseWriter: rw}, received: now, span: span}
	x.id = h.ids.next(now)
	rw.Header().Set(HeaderDecision, x.id)
	defer x.finish()
	x.serve()
}

// relPath returns the escaped path below the public base ("" for the base
// itself), or false when the request is outside it.
func (h *Handler) relPath(escaped string) (string, bool) {
	if !strings.HasPrefix(escaped, h.basePath) {
		return "", false
	}
	rest := escaped[len(h.basePath):]
	switch {
	case rest == "" || rest == "/":
		return "", true
	case rest[0] == '/':
		return rest[1:], true
	}
	return "", false
}

func (h *Handler) lookupLink(path string) (fhir.Interaction, bool) {
	if h.opts.Links == nil {
		return fhir.InteractionUnknown, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l, err := h.opts.Links.Link(ctx, path)
	if err != nil {
		return fhir.InteractionUnknown, false
	}
	i, ok := fhir.ParseInteraction(l.Kind)
	return i, ok
}

func (h *Handler) decide(ctx context.Context, x *exchange) decision.Decision {
	if h.opts.Decider == nil {
		return decision.Decision{Action: decision.Allow, Disclose: true}
	}
	return h.opts.Decider.Decide(ctx, x.req, &x.who, x.received)
}

func (h *Handler) identify(x *exchange) error {
	x.who = decision.Requester{Addr: clientAddr(x.r)}
	if h.opts.Identifier == nil {
		return nil
	}
	who, err := h.opts.Identifier.Identify(x.r)
	who.Addr = x.who.Addr
	x.who = who
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if !who.Verified && who.TokenHash != "" {
		x.flags = append(x.flags, decision.FlagIdentityUnverified)
	}
	return nil
}
