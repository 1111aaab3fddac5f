package telemetry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ehigate/ehigate/configs"
)

func TestSafeAttrs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kvs     []attribute.KeyValue
		wantBad string
	}{
		{"none", nil, ""},
		{"decision", []attribute.KeyValue{
			attribute.String(KeyAction, "deny"), attribute.String(KeyException, "privacy"),
			attribute.String(KeyInteraction, "search-type"), attribute.String(KeyResourceType, "Observation"),
			attribute.String(KeyPolicyID, "sensitive-labs"), attribute.String(KeyRequesterClass, "app"),
			attribute.Int(KeyStatus, 403), attribute.String(KeyReason, "policy"),
			attribute.String(KeyOperation, "$export"), attribute.String(KeyPolicySetVersion, "sha256:ab12"),
		}, ""},
		{"semantic conventions", []attribute.KeyValue{
			attribute.String("http.request.method", "GET"), attribute.Int("http.response.status_code", 200),
			attribute.String("error.type", "timeout"),
		}, ""},
		{"patient id", []attribute.KeyValue{attribute.String(KeyAction, "allow"), attribute.String("patient_id", "123")}, "patient_id"},
		{"subject", []attribute.KeyValue{attribute.String("subject", "abc")}, "subject"},
		{"enduser", []attribute.KeyValue{attribute.String("enduser.id", "abc")}, "enduser.id"},
		{"token", []attribute.KeyValue{attribute.String("token", "eyJ")}, "token"},
		{"authorization header", []attribute.KeyValue{attribute.String("http.request.header.authorization", "Bearer x")}, "http.request.header.authorization"},
		{"path", []attribute.KeyValue{attribute.String("url.path", "/fhir/Patient/1")}, "url.path"},
		{"query", []attribute.KeyValue{attribute.String("url.query", "patient=1")}, "url.query"},
		{"full url", []attribute.KeyValue{attribute.String("url.full", "https://x/fhir/Patient/1")}, "url.full"},
		{"resource id", []attribute.KeyValue{attribute.String("resource_id", "1")}, "resource_id"},
		{"case matters", []attribute.KeyValue{attribute.String("Action", "allow")}, "Action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SafeAttrs(tc.kvs...)
			if tc.wantBad == "" {
				if err != nil || len(got) != len(tc.kvs) {
					t.Fatalf("SafeAttrs = %v, %v; want them back", got, err)
				}
				return
			}
			if !errors.Is(err, ErrForbiddenAttribute) {
				t.Fatalf("SafeAttrs error = %v, want ErrForbiddenAttribute", err)
			}
			if got != nil {
				t.Errorf("SafeAttrs returned %v with an error", got)
			}
			if want := `"` + tc.wantBad + `"`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
}

func TestAllowedKeysIsACopy(t *testing.T) {
	k := AllowedKeys()
	k[0] = "patient_id"
	if Allowed("patient_id") {
		t.Fatal("changing AllowedKeys' result changed the allow-list")
	}
}

func TestExportScrubsSpans(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	_, other := h.tel.Tracer.Start(ctx, "other")
	other.End()
	_, s := h.tel.Tracer.Start(ctx, "classify",
		trace.WithLinks(trace.Link{SpanContext: other.SpanContext(), Attributes: []attribute.KeyValue{
			attribute.String("patient_id", "1"), attribute.String(KeyReason, "bulk")}}))
	s.SetAttributes(attribute.String(KeyInteraction, "read"), attribute.String("patient_id", "1"), attribute.String("url.query", "q"))
	s.AddEvent("e", trace.WithAttributes(attribute.String("token", "t"), attribute.String(KeyAction, "allow")))
	s.End()
	spans := h.spans.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	c := spans[1]
	if got := keys(c.Attributes); got != "interaction" {
		t.Errorf("span attributes = %s, want interaction", got)
	}
	if c.DroppedAttributes != 2 {
		t.Errorf("DroppedAttributes = %d, want 2", c.DroppedAttributes)
	}
	if got := keys(c.Events[0].Attributes); got != "action" || c.Events[0].DroppedAttributeCount != 1 {
		t.Errorf("event attributes = %s (dropped %d)", got, c.Events[0].DroppedAttributeCount)
	}
	if got := keys(c.Links[0].Attributes); got != "reason" || c.Links[0].DroppedAttributeCount != 1 {
		t.Errorf("link attributes = %s (dropped %d)", got, c.Links[0].DroppedAttributeCount)
	}
	if !c.SpanContext.Equal(s.SpanContext()) || c.Name != "classify" {
		t.Errorf("scrubbed span lost its identity: %v %s", c.SpanContext, c.Name)
	}
}

func TestMetricsDropForbiddenAttributes(t *testing.T) {
	h := newHarness(t, nil)
	h.tel.Metrics.UpstreamErrors.Add(context.Background(), 1,
		metric.WithAttributes(attribute.String(KeyReason, "upstream-timeout"), attribute.String("patient_id", "p1")))
	rm := collect(t, h.reader)
	pts := pointAttrs(find(t, rm, MetricUpstreamErrors))
	if len(pts) != 1 || keys(pts[0]) != "reason" {
		t.Errorf("upstream error attributes = %v, want reason only", pts)
	}
}

func TestScrubExporterLeavesCleanBatchesAlone(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	tel, err := New(context.Background(), configs.DefaultTelemetry(), "test", WithSpanExporter(mem), WithSyncExport(),
		WithMetricReader(sdkmetric.NewManualReader()))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	_, s := tel.Tracer.Start(context.Background(), "decide", trace.WithAttributes(attribute.String(KeyAction, "allow")))
	s.End()
	if got := mem.GetSpans(); len(got) != 1 || got[0].DroppedAttributes != 0 || keys(got[0].Attributes) != "action" {
		t.Errorf("clean span changed: %+v", got)
	}
}

func keys(kvs []attribute.KeyValue) string {
	s := ""
	for i, kv := range kvs {
		if i > 0 {
			s += ","
		}
		s += string(kv.Key)
	}
	return s
}

func TestMeterAttributeFilter(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	tel, err := New(context.Background(), configs.DefaultTelemetry(), "test", WithMetricReader(reader), WithMeterAttributeFilter())
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	c, err := tel.Meter.Int64Counter("ehigate.other")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(context.Background(), 1, metric.WithAttributes(attribute.String("subject", "s1"), attribute.String(KeyAction, "deny")))
	pts := pointAttrs(find(t, collect(t, reader), "ehigate.other"))
	if len(pts) != 1 || keys(pts[0]) != "action" {
		t.Errorf("attributes = %v, want action only", pts)
	}
}
