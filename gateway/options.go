package gateway

import (
	"go.opentelemetry.io/otel/trace"

	"context"
	"github.com/ehigate/ehigate/telemetry"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/gateway/hold"
	"github.com/ehigate/ehigate/gateway/throttle"
)

// HeaderDecision carries the decision id on every response.
const HeaderDecision = "X-Ehigate-Decision"

// Decider decides one request. decision/engine implements it.
type Decider interface {
	Decide(ctx context.Context, req *fhir.Request, who *decision.Requester, at time.Time) decision.Decision
}

// Identifier reads the requester from a request. gateway/auth implements
// it. A returned error means the request is not authenticated; it is
// answered 401 and recorded. A request without credentials gets an
// anonymous requester and no error: Options.RequireIdentity decides
// whether that is acceptable.
type Identifier interface {
	Identify(r *http.Request) (decision.Requester, error)
}

// Journal is where records go. decision/journal.Writer implements it.
type Journal interface {
	// Append returns once the entry is durable.
	Append(ctx context.Context, kind decision.EntryKind, recordID string, payload any, rec *decision.Record) (decision.Entry, error)
	// Submit queues an entry without waiting for it.
	Submit(kind decision.EntryKind, recordID string, payload any, rec *decision.Record) error
}

// Links remembers URL paths learned from responses (Bulk Data status and
// file URLs). decision/store.Store implements it.
type Links interface {
	PutLink(ctx context.Context, l store.Link) error
	Link(ctx context.Context, path string) (store.Link, error)
}

// Limits bound what one request may cost.
type Limits struct {
	MaxHeaderBytes int64
	MaxRequestBody int64
	InspectBody    int64
	MaxResource    int64
	// UpstreamIdle aborts a response whose upstream body stalls this long.
	UpstreamIdle time.Duration
}

// Options configure a Handler.
type Options struct {
	// PublicBase is the FHIR base URL apps use.
	PublicBase *url.URL
	// Upstream is the EHR's FHIR base URL.
	Upstream *url.URL
	// Transport carries requests upstream (see NewTransport).
	Transport http.RoundTripper
	Limits    Limits
	Journal   Journal
	Links     Links
	// Decider decides; nil means no policies are loaded and every valid
	// request is allowed.
	Decider Decider
	// Identifier identifies; nil means identity is not configured and every
	// requester is anonymous.
	Identifier Identifier
	Logger     *slog.Logger
	// Clock defaults to time.Now.
	Clock func() time.Time
	// Tracer traces requests (nil: no tracing); Metrics counts them (nil:
	// no metrics). See telemetry.New.
	Tracer  trace.Tracer
	Metrics *telemetry.Metrics
	// TempDir holds request bodies too large to inspect in memory
	// (default os.TempDir()).
	TempDir string

	// RequireIdentity answers 401 to requests whose requester the
	// Identifier did not verify, except capabilities and the SMART
	// configuration (auth.mode verify).
	RequireIdentity bool
	// Scopes configures the enforcement of SMART scopes (authz.go).
	Scopes ScopeOptions
	// SmartConfiguration, when set, is served as is (application/json)
	// for [base]/.well-known/smart-configuration instead of proxying it.
	SmartConfiguration []byte

	// Limiter counts requests against throttle policies' limits
	// (gateway/throttle: in-process, or shared through Redis); nil: an
	// in-process limiter.
	Limiter throttle.Limiter
	// Holds parks the requests of delay policies in hold form and serves
	// their status URLs (gateway/hold); nil: such requests cannot be
	// parked and are answered 503.
	Holds *hold.Manager
	// Refusals document refusals the upstream makes on its own; one no
	// entry documents is flagged undocumented (refusal.go).
	Refusals []UpstreamRefusal
}
