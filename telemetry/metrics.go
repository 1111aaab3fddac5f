package telemetry

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names (OpenTelemetry style; Prometheus shows them with
// underscores and unit suffixes, e.g. ehigate_decision_duration_seconds).
const (
	MetricRequests           = "ehigate.requests"
	MetricDecisionDuration   = "ehigate.decision.duration"
	MetricJournalCommit      = "ehigate.journal.commit.duration"
	MetricJournalBatchSize   = "ehigate.journal.batch.size"
	MetricUpstreamErrors     = "ehigate.upstream.errors"
	MetricThrottleRejections = "ehigate.throttle.rejections"
	MetricSpoolDepth         = "ehigate.journal.spool.depth"
	MetricHoldsPending       = "ehigate.holds.pending"
	MetricPoliciesOverdue    = "ehigate.policies.review_overdue"
)

// Histogram bucket boundaries. A decision takes microseconds; a group
// commit waits for an fsync or a database round trip.
var (
	decisionBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1}
	commitBuckets   = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	batchBuckets    = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}
)

// Metrics holds every instrument of the gateway, created once. Attribute
// keys must come from the allow-list (see SafeAttrs); others are dropped
// from the measurement.
type Metrics struct {
	// RequestsTotal counts requests by decision: attributes action,
	// exception and interaction (use CountRequest).
	RequestsTotal metric.Int64Counter
	// DecisionDuration is the time the decision engine took, in seconds
	// (attribute action).
	DecisionDuration metric.Float64Histogram
	// JournalCommitDuration is the time of one group commit, in seconds.
	JournalCommitDuration metric.Float64Histogram
	// JournalBatchSize is the number of entries of one group commit.
	JournalBatchSize metric.Int64Histogram
	// UpstreamErrors counts failed exchanges with the EHR (attribute
	// reason, e.g. upstream-timeout, upstream-unreachable).
	UpstreamErrors metric.Int64Counter
	// ThrottleRejections counts requests refused by a throttle
	// (attributes policy_id, requester_class).
	ThrottleRejections metric.Int64Counter
	// SpoolDepth is the number of journal entries waiting in the spool
	// for the store; observed through RegisterGauges.
	SpoolDepth metric.Int64ObservableGauge
	// HoldsPending is the number of delayed requests not yet released;
	// observed through RegisterGauges.
	HoldsPending metric.Int64ObservableGauge
	// PoliciesOverdue is the number of loaded policies whose review date
	// has passed; observed through RegisterGauges.
	PoliciesOverdue metric.Int64ObservableGauge

	meter    metric.Meter
	requests metric.Int64Counter // RequestsTotal without the attribute check
	mu       sync.Mutex          // guards regs
	regs     []metric.Registration

	reqMu    sync.RWMutex
	reqAttrs map[requestKey][]metric.AddOption
}

// maxRequestAttrSets bounds the attribute sets CountRequest caches; past
// it (a sign of an unbounded value) each call builds its own.
const maxRequestAttrSets = 4096

type requestKey struct{ action, exception, interaction string }

// GaugeValues are the values of the observable gauges at one collection.
// A negative value is not reported (the source is not running).
type GaugeValues struct {
	SpoolDepth      int64
	HoldsPending    int64
	PoliciesOverdue int64
}

// NewMetrics creates every instrument on meter.
func NewMetrics(meter metric.Meter) (*Metrics, error) {
	m := &Metrics{meter: meter}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	m.RequestsTotal, err = meter.Int64Counter(MetricRequests,
		metric.WithDescription("Requests by decision action, exception and FHIR interaction."),
		metric.WithUnit("{request}"))
	add(err)
	m.DecisionDuration, err = meter.Float64Histogram(MetricDecisionDuration,
		metric.WithDescription("Time the decision engine took for one request."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(decisionBuckets...))
	add(err)
	m.JournalCommitDuration, err = meter.Float64Histogram(MetricJournalCommit,
		metric.WithDescription("Time of one journal group commit (store or spool)."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(commitBuckets...))
	add(err)
	m.JournalBatchSize, err = meter.Int64Histogram(MetricJournalBatchSize,
		metric.WithDescription("Entries written by one journal group commit."),
		metric.WithUnit("{entry}"), metric.WithExplicitBucketBoundaries(batchBuckets...))
	add(err)
	m.UpstreamErrors, err = meter.Int64Counter(MetricUpstreamErrors,
		metric.WithDescription("Exchanges with the upstream EHR that failed, by reason."),
		metric.WithUnit("{error}"))
	add(err)
	m.ThrottleRejections, err = meter.Int64Counter(MetricThrottleRejections,
		metric.WithDescription("Requests refused by a throttle."),
		metric.WithUnit("{request}"))
	add(err)
	m.SpoolDepth, err = meter.Int64ObservableGauge(MetricSpoolDepth,
		metric.WithDescription("Journal entries waiting in the spool for the store."),
		metric.WithUnit("{entry}"))
	add(err)
	m.HoldsPending, err = meter.Int64ObservableGauge(MetricHoldsPending,
		metric.WithDescription("Delayed requests not yet released."),
		metric.WithUnit("{request}"))
	add(err)
	m.PoliciesOverdue, err = meter.Int64ObservableGauge(MetricPoliciesOverdue,
		metric.WithDescription("Loaded policies whose review date has passed."),
		metric.WithUnit("{policy}"))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("telemetry: instruments: %w", err)
	}
	m.requests = m.RequestsTotal // CountRequest's sets are allowed by construction
	m.RequestsTotal = safeInt64Counter{m.RequestsTotal}
	m.UpstreamErrors = safeInt64Counter{m.UpstreamErrors}
	m.ThrottleRejections = safeInt64Counter{m.ThrottleRejections}
	m.DecisionDuration = safeFloat64Histogram{m.DecisionDuration}
	m.JournalCommitDuration = safeFloat64Histogram{m.JournalCommitDuration}
	m.JournalBatchSize = safeInt64Histogram{m.JournalBatchSize}
	return m, nil
}

// CountRequest adds one request to RequestsTotal. Its attribute sets are
// built once per distinct combination, so a call does not allocate.
func (m *Metrics) CountRequest(ctx context.Context, action, exception, interaction string) {
	k := requestKey{action, exception, interaction}
	m.reqMu.RLock()
	o, ok := m.reqAttrs[k]
	m.reqMu.RUnlock()
	if !ok {
		o = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
			attribute.String(KeyAction, action),
			attribute.String(KeyException, exception),
			attribute.String(KeyInteraction, interaction),
		))}
		m.reqMu.Lock()
		if m.reqAttrs == nil {
			m.reqAttrs = map[requestKey][]metric.AddOption{}
		}
		if len(m.reqAttrs) < maxRequestAttrSets {
			m.reqAttrs[k] = o
		}
		m.reqMu.Unlock()
	}
	m.requests.Add(ctx, 1, o...)
}

// RegisterGauges makes the observable gauges report what f returns at
// each collection (each Prometheus scrape or OTLP export). f must be
// cheap and safe for concurrent use. Registering again replaces f.
func (m *Metrics) RegisterGauges(f func() GaugeValues) error {
	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		v := f()
		for _, g := range []struct {
			inst metric.Int64ObservableGauge
			v    int64
		}{{m.SpoolDepth, v.SpoolDepth}, {m.HoldsPending, v.HoldsPending}, {m.PoliciesOverdue, v.PoliciesOverdue}} {
			if g.v >= 0 {
				o.ObserveInt64(g.inst, g.v)
			}
		}
		return nil
	}, m.SpoolDepth, m.HoldsPending, m.PoliciesOverdue)
	if err != nil {
		return fmt.Errorf("telemetry: register gauges: %w", err)
	}
	m.mu.Lock()
	old := m.regs
	m.regs = []metric.Registration{reg}
	m.mu.Unlock()
	var errs []error
	for _, r := range old {
		errs = append(errs, r.Unregister())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: register gauges: %w", err)
	}
	return nil
}
