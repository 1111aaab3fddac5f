// Package telemetry sets up the process's observability: structured logs
// (log/slog, JSON by default) that carry the current trace and span ids,
// and OpenTelemetry traces and metrics exported over OTLP and served to
// Prometheus from a private registry.
//
// New builds everything from the telemetry section of the configuration.
// Nothing here touches OpenTelemetry's process-wide globals: other packages
// receive the Tracer, Meter, Metrics or Propagator they need. Attribute keys
// are restricted to an allow-list (SafeAttrs): span attributes outside it
// are removed before any exporter sees them, and the instruments of Metrics
// drop them from each measurement, so that no patient, subject or token
// identifier leaves the process as telemetry.
package telemetry
