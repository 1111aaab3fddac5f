package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ErrHeadersFile is matched (errors.Is) by errors about the content of an
// OTLP headers file.
var ErrHeadersFile = errors.New("telemetry: bad OTLP headers file")

// maxHeadersFile bounds an OTLP headers file.
const maxHeadersFile = 64 << 10

// newOTLP returns the OTLP/HTTP span exporter and a periodic metric
// reader for the collector at base (scheme://host:port[/path]).
func newOTLP(ctx context.Context, base *url.URL, headers map[string]string, client *http.Client) (sdktrace.SpanExporter, sdkmetric.Reader, error) {
	topts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(base.JoinPath("v1", "traces").String()),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression),
	}
	mopts := []otlpmetrichttp.Option{
		otlpmetrichttp.WithEndpointURL(base.JoinPath("v1", "metrics").String()),
		otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression),
	}
	if len(headers) > 0 {
		topts = append(topts, otlptracehttp.WithHeaders(headers))
		mopts = append(mopts, otlpmetrichttp.WithHeaders(headers))
	}
	if client != nil {
		topts = append(topts, otlptracehttp.WithHTTPClient(client))
		mopts = append(mopts, otlpmetrichttp.WithHTTPClient(client))
	}
	se, err := otlptracehttp.New(ctx, topts...)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: otlp traces: %w", err)
	}
	me, err := otlpmetrichttp.New(ctx, mopts...)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("telemetry: otlp metrics: %w", err), se.Shutdown(ctx))
	}
	return se, sdkmetric.NewPeriodicReader(me), nil
}

// ReadHeadersFile reads the OTLP headers file at path ("" gives none):
// one "Name: value" per line; blank lines and lines starting with # are
// ignored.
func ReadHeadersFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP headers: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHeadersFile+1))
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP headers: %w", err)
	}
	if len(data) > maxHeadersFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrHeadersFile, path, maxHeadersFile)
	}
	h, err := ParseHeaders(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// ParseHeaders parses "Name: value" lines (see ReadHeadersFile). Names
// must be HTTP tokens; values must not contain control characters. Errors
// name the line but never its value, which is usually a secret.
func ParseHeaders(data []byte) (map[string]string, error) {
	h := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxHeadersFile)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(s, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: line %d: want Name: value", ErrHeadersFile, line)
		case !isToken(name):
			return nil, fmt.Errorf("%w: line %d: header name is not an HTTP token", ErrHeadersFile, line)
		case !validValue(value):
			return nil, fmt.Errorf("%w: line %d: header %s: value has control characters", ErrHeadersFile, line, name)
		}
		h[http.CanonicalHeaderKey(name)] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHeadersFile, err)
	}
	return h, nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
