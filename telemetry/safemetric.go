package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The instruments of Metrics are wrapped so that a measurement whose
// attributes include a key outside the allow-list is recorded without
// them. The check costs a few nanoseconds for the usual all-allowed set,
// far less than an SDK attribute filter, which rebuilds and rehashes the
// set on every measurement.

func setAllowed(s attribute.Set) bool {
	for it := s.Iter(); it.Next(); {
		if !Allowed(it.Attribute().Key) {
			return false
		}
	}
	return true
}

func filtered(s attribute.Set) attribute.Set {
	f, _ := s.Filter(attrFilter)
	return f
}

type safeInt64Counter struct{ metric.Int64Counter }

func (c safeInt64Counter) Add(ctx context.Context, v int64, opts ...metric.AddOption) {
	if set := metric.NewAddConfig(opts).Attributes(); !setAllowed(set) {
		c.Int64Counter.Add(ctx, v, metric.WithAttributeSet(filtered(set)))
		return
	}
	c.Int64Counter.Add(ctx, v, opts...)
}

type safeFloat64Histogram struct{ metric.Float64Histogram }

func (h safeFloat64Histogram) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	if set := metric.NewRecordConfig(opts).Attributes(); !setAllowed(set) {
		h.Float64Histogram.Record(ctx, v, metric.WithAttributeSet(filtered(set)))
		return
	}
	h.Float64Histogram.Record(ctx, v, opts...)
}

type safeInt64Histogram struct{ metric.Int64Histogram }

func (h safeInt64Histogram) Record(ctx context.Context, v int64, opts ...metric.RecordOption) {
	if set := metric.NewRecordConfig(opts).Attributes(); !setAllowed(set) {
		h.Int64Histogram.Record(ctx, v, metric.WithAttributeSet(filtered(set)))
		return
	}
	h.Int64Histogram.Record(ctx, v, opts...)
}
