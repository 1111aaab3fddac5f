package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/configs/yamlx"
)

func TestTelemetrySection(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "otlp-headers"), []byte("api-key: k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "public_base_url: http://127.0.0.1:8080/fhir\nupstream: {url: http://127.0.0.1:9/fhir}\n"
	for _, tc := range []struct {
		name     string
		yaml     string
		wantErr  []string // "line: path: message fragment"
		wantURL  string   // OTLP base URL, "" = off
		wantTele func(Telemetry) bool
	}{
		{name: "defaults", yaml: base, wantTele: func(tl Telemetry) bool {
			return tl.ServiceName == "ehigate" && tl.Prometheus && tl.OTLP.Protocol == OTLPHTTPProtobuf && tl.Traces.SampleRatio == 1
		}},
		{name: "all keys", yaml: base + `telemetry:
  service_name: ehigate-prod
  prometheus: false
  otlp:
    endpoint: https://collector.example:4318/base/
    protocol: http/protobuf
    headers_file: otlp-headers
  traces:
    sample_ratio: 0.25
`, wantURL: "https://collector.example:4318/base", wantTele: func(tl Telemetry) bool {
			return tl.ServiceName == "ehigate-prod" && !tl.Prometheus && tl.Traces.SampleRatio == 0.25 &&
				tl.OTLP.HeadersFile == filepath.Join(dir, "otlp-headers")
		}},
		{name: "host:port with TLS", yaml: base + "telemetry: {otlp: {endpoint: 'otel:4318'}}\n", wantURL: "https://otel:4318"},
		{name: "host:port insecure", yaml: base + "telemetry: {otlp: {endpoint: 'otel:4318', insecure: true}}\n", wantURL: "http://otel:4318"},
		{name: "http URL insecure", yaml: base + "telemetry: {otlp: {endpoint: 'http://otel:4318', insecure: true}}\n", wantURL: "http://otel:4318"},
		{name: "sampling off", yaml: base + "telemetry: {traces: {sample_ratio: 0}}\n"},
		{name: "http URL needs insecure", yaml: base + "telemetry:\n  otlp:\n    endpoint: http://otel:4318\n",
			wantErr: []string{"5: telemetry.otlp.endpoint: ", "without TLS"}},
		{name: "https with insecure", yaml: base + "telemetry: {otlp: {endpoint: 'https://otel:4318', insecure: true}}\n",
			wantErr: []string{"telemetry.otlp.endpoint: ", "choose one"}},
		{name: "credentials in URL", yaml: base + "telemetry: {otlp: {endpoint: 'https://u:p@otel:4318'}}\n",
			wantErr: []string{"telemetry.otlp.endpoint: must not have credentials"}},
		{name: "not an endpoint", yaml: base + "telemetry: {otlp: {endpoint: 'otel'}}\n",
			wantErr: []string{"telemetry.otlp.endpoint: want host:port"}},
		{name: "grpc", yaml: base + "telemetry:\n  otlp:\n    endpoint: 'otel:4317'\n    protocol: grpc\n",
			wantErr: []string{"6: telemetry.otlp.protocol: want http/protobuf"}},
		{name: "ratio out of range", yaml: base + "telemetry:\n  traces:\n    sample_ratio: 1.5\n",
			wantErr: []string{"5: telemetry.traces.sample_ratio: want a number from 0 to 1"}},
		{name: "negative ratio", yaml: base + "telemetry: {traces: {sample_ratio: -0.1}}\n", wantErr: []string{"telemetry.traces.sample_ratio"}},
		{name: "empty service name", yaml: base + "telemetry: {service_name: ' '}\n", wantErr: []string{"telemetry.service_name: must not be empty"}},
		{name: "missing headers file", yaml: base + "telemetry: {otlp: {endpoint: 'otel:4318', headers_file: nope}}\n",
			wantErr: []string{"telemetry.otlp.headers_file: cannot read " + filepath.Join(dir, "nope")}},
		{name: "headers file without endpoint", yaml: base + "telemetry: {otlp: {headers_file: otlp-headers}}\n",
			wantErr: []string{"telemetry.otlp.headers_file: is set but telemetry.otlp.endpoint is empty"}},
		{name: "unknown key", yaml: base + "telemetry: {jaeger: true}\n", wantErr: []string{"telemetry.jaeger"}},
		{name: "wrong type", yaml: base + "telemetry: {prometheus: maybe}\n", wantErr: []string{"telemetry.prometheus"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(filepath.Join(dir, "ehigate.yaml"), []byte(tc.yaml))
			if len(tc.wantErr) > 0 {
				if !errors.Is(err, yamlx.ErrInvalid) {
					t.Fatalf("err = %v, want problems", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("problems %q lack %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u, on := c.Telemetry.OTLPEndpointURL()
			switch {
			case tc.wantURL == "" && on:
				t.Errorf("OTLP on (%s), want off", u)
			case tc.wantURL != "" && (!on || u.String() != tc.wantURL):
				t.Errorf("OTLP URL = %v (%v), want %s", u, on, tc.wantURL)
			}
			if tc.wantTele != nil && !tc.wantTele(c.Telemetry) {
				t.Errorf("telemetry = %+v", c.Telemetry)
			}
		})
	}
}
