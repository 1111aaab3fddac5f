package gateway

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/telemetry"
)

// Spans and metrics. Every request has a server span with a child span per
// pipeline stage (identify, classify, decide, record, upstream); their
// attributes are taken only from the telemetry allow-list (codes and
// enum values, never an identifier, a path or a query). Only W3C Trace
// Context crosses the gateway: a client's baggage is not propagated by
// the gateway itself.

// traceContext extracts and injects W3C traceparent/tracestate.
var traceContext = propagation.TraceContext{}

// startRequestSpan continues the caller's trace (or starts one) for r.
func (h *Handler) startRequestSpan(r *http.Request) (*http.Request, trace.Span) {
	ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := h.tracer.Start(ctx, "ehigate.request", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method)))
	return r.WithContext(ctx), span
}

// stage starts the span of one pipeline stage; call the returned func
// when the stage ends.
func (x *exchange) stage(name string) func() {
	_, s := x.h.tracer.Start(x.r.Context(), name)
	return func() { s.End() }
}

// endRequestSpan finishes the request's span and counts the request.
func (x *exchange) endRequestSpan() {
	r := &x.rec
	exc := ""
	if r.Exception != nil {
		exc = r.Exception.Code
	}
	attrs := []attribute.KeyValue{
		attribute.String(telemetry.KeyAction, r.Action.String()),
		attribute.String(telemetry.KeyInteraction, r.Interaction),
		attribute.Int("http.response.status_code", r.Status),
	}
	if r.ResourceType != "" {
		attrs = append(attrs, attribute.String(telemetry.KeyResourceType, r.ResourceType))
	}
	if exc != "" {
		attrs = append(attrs, attribute.String(telemetry.KeyException, exc))
	}
	if r.Reason != "" {
		attrs = append(attrs, attribute.String(telemetry.KeyReason, r.Reason))
	}
	if c := r.Requester.Class; c != "" {
		attrs = append(attrs, attribute.String(telemetry.KeyRequesterClass, string(c)))
	}
	x.span.SetAttributes(attrs...)
	if r.Action == decision.Error {
		x.span.SetStatus(codes.Error, r.Reason)
	}
	x.span.End()
	if m := x.h.metrics; m != nil {
		m.CountRequest(x.r.Context(), r.Action.String(), exc, r.Interaction)
	}
}

// timeDecision records how long the engine took.
func (x *exchange) timeDecision(start time.Time) {
	if m := x.h.metrics; m != nil {
		m.DecisionDuration.Record(x.r.Context(), time.Since(start).Seconds(),
			metric.WithAttributes(attribute.String(telemetry.KeyAction, x.dec.Action.String())))
	}
}

// countUpstreamError counts a failed exchange with the EHR.
func (x *exchange) countUpstreamError(reason string) {
	if m := x.h.metrics; m != nil {
		m.UpstreamErrors.Add(x.r.Context(), 1, metric.WithAttributes(attribute.String(telemetry.KeyReason, reason)))
	}
}

// countThrottled counts a request refused by a throttle.
func (x *exchange) countThrottled(policy string) {
	if m := x.h.metrics; m != nil {
		m.ThrottleRejections.Add(x.r.Context(), 1, metric.WithAttributes(
			attribute.String(telemetry.KeyPolicyID, policy),
			attribute.String(telemetry.KeyRequesterClass, string(x.who.Class))))
	}
}

// upstreamContext starts the span of the upstream exchange; the trace
// context is injected into the outbound request by rewrite.
func (x *exchange) upstreamContext() (context.Context, trace.Span) {
	return x.h.tracer.Start(x.r.Context(), "upstream", trace.WithSpanKind(trace.SpanKindClient))
}

// traceIDOf returns the trace id of the request's span, when one is valid.
func traceIDOf(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}

// noopTracer is used when no tracer is configured.
var noopTracer = noop.NewTracerProvider().Tracer("")
