package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ehigate/ehigate/configs"
)

// ScopeName is the instrumentation scope of the gateway's tracer and meter.
const ScopeName = "github.com/ehigate/ehigate"

// Telemetry is the process's tracing and metrics set-up. Its providers are
// not installed as OpenTelemetry globals: hand Tracer, Meter, Metrics and
// Propagator to the packages that need them.
type Telemetry struct {
	// TracerProvider creates tracers; its spans are exported over OTLP
	// when configured (and always carry trace ids for logs and records).
	TracerProvider *sdktrace.TracerProvider
	// MeterProvider creates meters, read by Prometheus and OTLP.
	MeterProvider *sdkmetric.MeterProvider
	// Tracer is the gateway's tracer (scope ScopeName).
	Tracer trace.Tracer
	// Meter is the gateway's meter (scope ScopeName).
	Meter metric.Meter
	// Metrics holds every gateway instrument, created once.
	Metrics *Metrics
	// Propagator is W3C Trace Context plus W3C Baggage, to extract from
	// incoming requests and inject into upstream ones.
	Propagator propagation.TextMapPropagator

	prometheus http.Handler
	shutdown   []func(context.Context) error
}

// Option changes how New builds the providers; tests use them to capture
// spans and metrics in memory.
type Option func(*options)

type options struct {
	spanExporters []sdktrace.SpanExporter
	syncExport    bool
	readers       []sdkmetric.Reader
	httpClient    *http.Client
	meterFilter   bool
}

// WithSpanExporter adds an exporter of finished spans, batched (or, with
// WithSyncExport, exported as each span ends). Attributes outside the
// allow-list are removed before it sees them.
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return func(o *options) { o.spanExporters = append(o.spanExporters, e) }
}

// WithSyncExport exports each span as it ends instead of in batches.
// For tests only: it puts the exporter on the request path.
func WithSyncExport() Option { return func(o *options) { o.syncExport = true } }

// WithMetricReader adds a metric reader, e.g. sdkmetric.NewManualReader.
func WithMetricReader(r sdkmetric.Reader) Option {
	return func(o *options) { o.readers = append(o.readers, r) }
}

// WithMeterAttributeFilter applies the attribute allow-list to every
// instrument of the MeterProvider, including ones created on Meter
// outside Metrics. It costs about 250 ns per measurement and reader (the
// SDK rebuilds the filtered set each time); the instruments of Metrics
// are checked without it.
func WithMeterAttributeFilter() Option { return func(o *options) { o.meterFilter = true } }

// WithOTLPHTTPClient sets the HTTP client of the OTLP exporters (e.g. for
// a private CA).
func WithOTLPHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// New builds tracing and metrics from cfg (a validated telemetry section);
// version is the gateway's version, recorded as service.version. Call
// Shutdown to flush and stop the exporters.
func New(ctx context.Context, cfg configs.Telemetry, version string, opts ...Option) (*Telemetry, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	res, err := newResource(ctx, cfg.ServiceName, version)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	fail := func(err error) (*Telemetry, error) {
		return nil, errors.Join(err, t.Shutdown(ctx))
	}

	spanExporters, readers := o.spanExporters, o.readers
	if cfg.Prometheus {
		h, r, err := newPrometheus()
		if err != nil {
			return nil, err
		}
		t.prometheus = h
		readers = append(readers, r)
	}
	// Last: the OTLP metric reader starts its export loop when created.
	if u, ok := cfg.OTLPEndpointURL(); ok {
		headers, err := ReadHeadersFile(cfg.OTLP.HeadersFile)
		if err != nil {
			return nil, err
		}
		se, mr, err := newOTLP(ctx, u, headers, o.httpClient)
		if err != nil {
			return nil, err
		}
		spanExporters = append(spanExporters, se)
		readers = append(readers, mr)
	}

	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.Traces.SampleRatio))),
	}
	for _, e := range spanExporters {
		e = scrubExporter{e}
		if o.syncExport {
			tpOpts = append(tpOpts, sdktrace.WithSyncer(e))
		} else {
			tpOpts = append(tpOpts, sdktrace.WithBatcher(e))
		}
	}
	t.TracerProvider = sdktrace.NewTracerProvider(tpOpts...)
	t.shutdown = append(t.shutdown, t.TracerProvider.Shutdown)

	mpOpts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	if o.meterFilter {
		mpOpts = append(mpOpts, sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "*"}, sdkmetric.Stream{AttributeFilter: attrFilter})))
	}
	for _, r := range readers {
		mpOpts = append(mpOpts, sdkmetric.WithReader(r))
	}
	t.MeterProvider = sdkmetric.NewMeterProvider(mpOpts...)
	t.shutdown = append(t.shutdown, t.MeterProvider.Shutdown)

	scope := []trace.TracerOption{trace.WithInstrumentationVersion(version)}
	t.Tracer = t.TracerProvider.Tracer(ScopeName, scope...)
	t.Meter = t.MeterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(version))
	if t.Metrics, err = NewMetrics(t.Meter); err != nil {
		return fail(err)
	}
	return t, nil
}

func newResource(ctx context.Context, service, version string) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{semconv.ServiceName(service), semconv.ServiceVersion(version)}
	// In Kubernetes the host name is the pod name, which also names the
	// pod's journal chain.
	if h, err := os.Hostname(); err == nil && h != "" {
		attrs = append(attrs, semconv.ServiceInstanceID(h))
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithAttributes(attrs...))
	if err != nil && !errors.Is(err, resource.ErrPartialResource) && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
}

// PrometheusHandler serves the metrics in the Prometheus text format from
// the gateway's own registry (never the global one), to be mounted at
// /metrics on the admin listener. It is nil when telemetry.prometheus is
// false.
func (t *Telemetry) PrometheusHandler() http.Handler { return t.prometheus }

// Shutdown flushes pending spans and metrics and stops the exporters. It
// is safe to call more than once.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	fns := t.shutdown
	t.shutdown = nil
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}

// Inject writes the trace context (and baggage) of ctx into h, the headers
// of a request to the upstream.
func (t *Telemetry) Inject(ctx context.Context, h http.Header) {
	t.Propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Extract returns ctx with the trace context (and baggage) carried by h,
// the headers of an incoming request.
func (t *Telemetry) Extract(ctx context.Context, h http.Header) context.Context {
	return t.Propagator.Extract(ctx, propagation.HeaderCarrier(h))
}
