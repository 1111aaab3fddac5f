package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ehigate/ehigate/configs"
)

func TestCountRequestDoesNotAllocate(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.tel.Metrics.CountRequest(ctx, "allow", "", "read")
	if n := testing.AllocsPerRun(100, func() { h.tel.Metrics.CountRequest(ctx, "allow", "", "read") }); n != 0 {
		t.Errorf("CountRequest allocates %v times per call once its set is cached", n)
	}
	if got := sumPoints(t, collect(t, h.reader), MetricRequests)["allow||read"]; got != 102 {
		t.Errorf("count = %d, want 102", got)
	}
}

func TestCountRequestCacheIsBounded(t *testing.T) {
	m, err := NewMetrics(noop.NewMeterProvider().Meter("x"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxRequestAttrSets + 10 {
		m.CountRequest(context.Background(), "allow", "", string(rune('a'+i%26))+string(rune(i)))
	}
	if len(m.reqAttrs) != maxRequestAttrSets {
		t.Errorf("cached %d sets, want the bound %d", len(m.reqAttrs), maxRequestAttrSets)
	}
}

func TestRegisterGaugesReplaces(t *testing.T) {
	h := newHarness(t, nil)
	m := h.tel.Metrics
	if err := m.RegisterGauges(func() GaugeValues { return GaugeValues{SpoolDepth: 1, HoldsPending: 1, PoliciesOverdue: 1} }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterGauges(func() GaugeValues { return GaugeValues{SpoolDepth: 9, HoldsPending: -1, PoliciesOverdue: 4} }); err != nil {
		t.Fatal(err)
	}
	rm := collect(t, h.reader)
	if g := gauge(t, rm, MetricSpoolDepth); g != 9 {
		t.Errorf("spool depth = %d, want 9 (the second callback only)", g)
	}
	if g := gauge(t, rm, MetricPoliciesOverdue); g != 4 {
		t.Errorf("policies overdue = %d, want 4", g)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, mm := range sm.Metrics {
			if mm.Name == MetricHoldsPending && len(pointAttrs(mm)) > 0 {
				t.Errorf("holds pending reported with a negative value")
			}
		}
	}
}

func BenchmarkCountRequest(b *testing.B) {
	h := newHarness(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h.tel.Metrics.CountRequest(ctx, "deny", "privacy", "search-type")
	}
}

func BenchmarkRequestSpans(b *testing.B) {
	h := newHarness(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h.spans.Reset()
		h.simulateRequest(ctx, "allow", "")
	}
}

// BenchmarkCounterAdd compares the allow-list check of Metrics' wrapped
// instruments with the SDK-wide attribute filter (WithMeterAttributeFilter).
func BenchmarkCounterAdd(b *testing.B) {
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String(KeyReason, "upstream-timeout")))
	for _, bc := range []struct {
		name string
		opts []Option
	}{{"checked instrument", nil}, {"meter filter", []Option{WithMeterAttributeFilter()}}} {
		b.Run(bc.name, func(b *testing.B) {
			tel, err := New(context.Background(), configs.DefaultTelemetry(), "bench",
				append(bc.opts, WithMetricReader(sdkmetric.NewManualReader()))...)
			if err != nil {
				b.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				tel.Metrics.UpstreamErrors.Add(ctx, 1, attrs)
			}
		})
	}
}
