// Package telemetry sets up the process's observability: structured logs
// (log/slog, JSON by default), and OpenTelemetry traces and metrics. Other
// packages receive a logger, tracer or meter; none configures its own.
package telemetry
