package configs

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/ehigate/ehigate/configs/yamlx"
)

// OTLPHTTPProtobuf is the only OTLP protocol supported:
// OTLP over HTTP with protobuf bodies (collector port 4318).
const OTLPHTTPProtobuf = "http/protobuf"

// Telemetry configures traces and metrics (the process log is Log).
type Telemetry struct {
	// ServiceName is the service.name resource attribute of every span
	// and metric (default "ehigate").
	ServiceName string `yaml:"service_name"`
	// Prometheus serves the metrics at /metrics on the admin listener
	// (default true).
	Prometheus bool `yaml:"prometheus"`
	// OTLP exports traces and metrics to an OpenTelemetry collector.
	OTLP TelemetryOTLP `yaml:"otlp"`
	// Traces tunes tracing.
	Traces TelemetryTraces `yaml:"traces"`
}

// TelemetryOTLP is the OTLP export of traces and metrics.
type TelemetryOTLP struct {
	// Endpoint is the collector: "host:port" or an "http(s)://host:port"
	// URL with an optional base path. Empty: no OTLP export.
	Endpoint string `yaml:"endpoint"`
	// Protocol is the OTLP protocol; only "http/protobuf" is supported.
	Protocol string `yaml:"protocol"`
	// Insecure sends without TLS. It must be set to use an http:// URL
	// and must not be set with an https:// URL.
	Insecure bool `yaml:"insecure"`
	// HeadersFile holds headers sent with every export, one
	// "Name: value" per line (e.g. a collector's API key), so that secrets
	// stay out of the configuration file.
	HeadersFile string `yaml:"headers_file"`
}

// TelemetryTraces tunes tracing.
type TelemetryTraces struct {
	// SampleRatio is the fraction of new traces sampled, 0 to 1 (default
	// 1). Sampling is parent-based: a request that arrives with a sampled
	// trace context is sampled.
	SampleRatio float64 `yaml:"sample_ratio"`
}

// DefaultTelemetry returns the telemetry defaults.
func DefaultTelemetry() Telemetry {
	return Telemetry{
		ServiceName: "ehigate",
		Prometheus:  true,
		OTLP:        TelemetryOTLP{Protocol: OTLPHTTPProtobuf},
		Traces:      TelemetryTraces{SampleRatio: 1},
	}
}

// OTLPEndpointURL returns the collector's base URL ("scheme://host:port"
// plus any base path, no trailing slash) and whether OTLP export is on.
// The configuration must have been validated.
func (t *Telemetry) OTLPEndpointURL() (*url.URL, bool) {
	u, err := parseOTLPEndpoint(t.OTLP.Endpoint, t.OTLP.Insecure)
	if err != nil || u == nil {
		return nil, false
	}
	return u, true
}

// validateTelemetry resolves telemetry.otlp.headers_file against the
// configuration file's folder, then checks the telemetry section.
func (c *Config) validateTelemetry() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	t := &c.Telemetry
	if f := t.OTLP.HeadersFile; f != "" && c.File != "" && !filepath.IsAbs(f) {
		t.OTLP.HeadersFile = filepath.Join(filepath.Dir(c.File), f)
	}
	if strings.TrimSpace(t.ServiceName) == "" {
		add("telemetry.service_name", "must not be empty")
	}
	if r := t.Traces.SampleRatio; math.IsNaN(r) || r < 0 || r > 1 {
		add("telemetry.traces.sample_ratio", "want a number from 0 to 1, got %v", r)
	}
	if t.OTLP.Protocol != OTLPHTTPProtobuf {
		add("telemetry.otlp.protocol", "want %s (the only protocol supported), got %q", OTLPHTTPProtobuf, t.OTLP.Protocol)
	}
	if t.OTLP.Endpoint == "" {
		if t.OTLP.HeadersFile != "" {
			add("telemetry.otlp.headers_file", "is set but telemetry.otlp.endpoint is empty")
		}
		return ps
	}
	if _, err := parseOTLPEndpoint(t.OTLP.Endpoint, t.OTLP.Insecure); err != nil {
		add("telemetry.otlp.endpoint", "%v", err)
	}
	if f := t.OTLP.HeadersFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			add("telemetry.otlp.headers_file", "cannot read %s: %v", f, unwrapPath(err))
		}
	}
	return ps
}

// parseOTLPEndpoint turns "host:port" or "http(s)://host:port[/path]" into
// a base URL; it returns nil, nil for an empty endpoint.
func parseOTLPEndpoint(s string, insecure bool) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	if !strings.Contains(s, "://") {
		host, port, err := net.SplitHostPort(s)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("want host:port or an http(s):// URL, got %q", s)
		}
		scheme := "https"
		if insecure {
			scheme = "http"
		}
		return &url.URL{Scheme: scheme, Host: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("want host:port or an http(s):// URL, got %q", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("must not have credentials, a query or a fragment (use telemetry.otlp.headers_file for credentials)")
	}
	switch {
	case u.Scheme == "http" && !insecure:
		return nil, fmt.Errorf("%q sends telemetry without TLS: use https:// or set telemetry.otlp.insecure: true", s)
	case u.Scheme == "https" && insecure:
		return nil, fmt.Errorf("%q is https but telemetry.otlp.insecure is true: choose one", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}
