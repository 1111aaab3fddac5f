package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ehigate/ehigate/configs"
)

// Values a careless instrumentation might put in attributes; none may
// leave the process.
const (
	secretToken = "eyJhbGciOiJSUzI1NiJ9.secret-token"
	patientID   = "Patient/pat-0042"
	subjectID   = "subject-7f3e"
)

type harness struct {
	tel    *Telemetry
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
}

func newHarness(t testing.TB, mutate func(*configs.Telemetry)) *harness {
	t.Helper()
	cfg := configs.DefaultTelemetry()
	if mutate != nil {
		mutate(&cfg)
	}
	h := &harness{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	tel, err := New(context.Background(), cfg, "v1.2.3",
		WithSpanExporter(h.spans), WithSyncExport(), WithMetricReader(h.reader))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	h.tel = tel
	return h
}

// simulateRequest instruments one request the way the gateway's pipeline
// does (identify, classify, decide, record, upstream, filter), with a few
// forbidden attributes slipped in to prove they are removed.
func (h *harness) simulateRequest(ctx context.Context, action, exception string) trace.SpanContext {
	tr, m := h.tel.Tracer, h.tel.Metrics
	ctx, root := tr.Start(ctx, "request", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", "GET"), attribute.String("url.path", "/fhir/"+patientID)))
	defer root.End()
	stage := func(name string, kvs ...attribute.KeyValue) {
		_, s := tr.Start(ctx, name, trace.WithAttributes(kvs...))
		s.End()
	}
	stage("identify", attribute.String(KeyRequesterClass, "patient"), attribute.String("enduser.id", subjectID),
		attribute.String("http.request.header.authorization", "Bearer "+secretToken))
	stage("classify", attribute.String(KeyInteraction, "read"), attribute.String(KeyResourceType, "Patient"),
		attribute.String("patient_id", patientID))
	_, ds := tr.Start(ctx, "decide", trace.WithAttributes(attribute.String(KeyAction, action), attribute.String(KeyException, exception)))
	ds.AddEvent("policy matched", trace.WithAttributes(attribute.String(KeyPolicyID, "privacy-sensitive"), attribute.String("subject", subjectID)))
	ds.End()
	m.DecisionDuration.Record(ctx, 0.00004, metricOpt(KeyAction, action))
	stage("record")
	m.JournalCommitDuration.Record(ctx, 0.002)
	m.JournalBatchSize.Record(ctx, 3)
	if action == "allow" {
		_, us := tr.Start(ctx, "upstream", trace.WithSpanKind(trace.SpanKindClient))
		us.SetAttributes(attribute.Int(KeyStatus, 200))
		us.End()
		stage("filter", attribute.String(KeyResourceType, "Patient"))
	} else {
		root.SetStatus(codes.Error, "denied")
	}
	m.CountRequest(ctx, action, exception, "read")
	return root.SpanContext()
}

func TestAllowedAndDeniedRequestTelemetry(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	allowed := h.simulateRequest(ctx, "allow", "")
	denied := h.simulateRequest(ctx, "deny", "privacy")
	h.tel.Metrics.UpstreamErrors.Add(ctx, 1, metricOpt(KeyReason, "upstream-timeout"))
	h.tel.Metrics.ThrottleRejections.Add(ctx, 1, metricOpt(KeyPolicyID, "bulk-rate"))
	if err := h.tel.Metrics.RegisterGauges(func() GaugeValues {
		return GaugeValues{SpoolDepth: 5, HoldsPending: 2, PoliciesOverdue: -1}
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("spans", func(t *testing.T) {
		byTrace := map[trace.TraceID][]string{}
		for _, s := range h.spans.GetSpans() {
			byTrace[s.SpanContext.TraceID()] = append(byTrace[s.SpanContext.TraceID()], s.Name)
			checkNoSecrets(t, s.Name, s.Attributes)
			for _, ev := range s.Events {
				checkNoSecrets(t, s.Name+"/"+ev.Name, ev.Attributes)
			}
			if got := s.Resource.Set(); !hasAttr(got.ToSlice(), "service.name", "ehigate") || !hasAttr(got.ToSlice(), "service.version", "v1.2.3") {
				t.Errorf("span %s resource = %v", s.Name, got.ToSlice())
			}
		}
		for _, tc := range []struct {
			name string
			sc   trace.SpanContext
			want string
		}{
			{"allowed", allowed, "identify classify decide record upstream filter request"},
			{"denied", denied, "identify classify decide record request"},
		} {
			if got := strings.Join(byTrace[tc.sc.TraceID()], " "); got != tc.want {
				t.Errorf("%s request spans = %q, want %q", tc.name, got, tc.want)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		rm := collect(t, h.reader)
		want := map[string]bool{
			MetricRequests: false, MetricDecisionDuration: false, MetricJournalCommit: false,
			MetricJournalBatchSize: false, MetricUpstreamErrors: false, MetricThrottleRejections: false,
			MetricSpoolDepth: false, MetricHoldsPending: false,
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if _, ok := want[m.Name]; ok {
					want[m.Name] = true
				}
				for _, attrs := range pointAttrs(m) {
					checkNoSecrets(t, m.Name, attrs)
				}
				if m.Name == MetricPoliciesOverdue && len(pointAttrs(m)) > 0 {
					t.Errorf("%s reported although its value was negative", m.Name)
				}
			}
		}
		for name, seen := range want {
			if !seen {
				t.Errorf("metric %s not exported", name)
			}
		}
		reqs := sumPoints(t, rm, MetricRequests)
		for _, key := range []string{"allow||read", "deny|privacy|read"} {
			if reqs[key] != 1 {
				t.Errorf("%s{%s} = %d, want 1 (all: %v)", MetricRequests, key, reqs[key], reqs)
			}
		}
		if g := gauge(t, rm, MetricSpoolDepth); g != 5 {
			t.Errorf("%s = %d, want 5", MetricSpoolDepth, g)
		}
	})
}

func TestPrometheusHandler(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.simulateRequest(ctx, "deny", "privacy")
	h.tel.Metrics.RegisterGauges(func() GaugeValues { return GaugeValues{SpoolDepth: 7, HoldsPending: 1, PoliciesOverdue: 3} })
	ph := h.tel.PrometheusHandler()
	if ph == nil {
		t.Fatal("PrometheusHandler is nil with telemetry.prometheus on")
	}
	rec := httptest.NewRecorder()
	ph.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	for _, want := range []string{
		`ehigate_requests_total{action="deny",exception="privacy",interaction="read"} 1`,
		`ehigate_decision_duration_seconds_bucket{action="deny",le="5e-05"} 1`,
		`ehigate_journal_commit_duration_seconds_count 1`,
		`ehigate_journal_spool_depth 7`,
		`ehigate_holds_pending 1`,
		`ehigate_policies_review_overdue 3`,
		`go_goroutines `,
		`target_info{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, secret := range []string{patientID, subjectID, secretToken, "patient_id", "url_path"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}

	t.Run("disabled", func(t *testing.T) {
		h := newHarness(t, func(c *configs.Telemetry) { c.Prometheus = false })
		if h.tel.PrometheusHandler() != nil {
			t.Error("PrometheusHandler not nil with telemetry.prometheus off")
		}
	})
}

func TestSampleRatio(t *testing.T) {
	for _, tc := range []struct {
		ratio     float64
		wantSpans bool
	}{{0, false}, {1, true}} {
		h := newHarness(t, func(c *configs.Telemetry) { c.Traces.SampleRatio = tc.ratio })
		_, s := h.tel.Tracer.Start(context.Background(), "request")
		s.End()
		if got := len(h.spans.GetSpans()) > 0; got != tc.wantSpans {
			t.Errorf("ratio %v: spans exported = %v, want %v", tc.ratio, got, tc.wantSpans)
		}
		if !s.SpanContext().TraceID().IsValid() {
			t.Errorf("ratio %v: no trace id (logs and records need one)", tc.ratio)
		}
	}
	t.Run("parent-based", func(t *testing.T) {
		h := newHarness(t, func(c *configs.Telemetry) { c.Traces.SampleRatio = 0 })
		hdr := http.Header{}
		hdr.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		ctx := h.tel.Extract(context.Background(), hdr)
		ctx, s := h.tel.Tracer.Start(ctx, "request")
		s.End()
		if len(h.spans.GetSpans()) != 1 {
			t.Fatalf("a sampled parent did not make the span sampled")
		}
		out := http.Header{}
		h.tel.Inject(ctx, out)
		if got := out.Get("traceparent"); !strings.HasPrefix(got, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || strings.Contains(got, "00f067aa0ba902b7") {
			t.Errorf("upstream traceparent = %q, want same trace, new parent span", got)
		}
	})
}

func TestOTLPExport(t *testing.T) {
	type got struct{ path, auth, tenant, encoding string }
	reqs := make(chan got, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		reqs <- got{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("X-Scope-Orgid"), r.Header.Get("Content-Encoding")}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	headers := t.TempDir() + "/headers"
	writeFile(t, headers, "# collector credentials\nAuthorization: Bearer collector-key\nx-scope-orgid: ehigate\n")
	cfg := configs.DefaultTelemetry()
	cfg.OTLP.Endpoint, cfg.OTLP.Insecure, cfg.OTLP.HeadersFile = srv.URL+"/otlp/", true, headers
	cfg.Prometheus = false
	tel, err := New(context.Background(), cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, s := tel.Tracer.Start(ctx, "request")
	s.End()
	tel.Metrics.CountRequest(ctx, "allow", "", "read")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if err := tel.Shutdown(sctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	close(reqs)
	paths := map[string]bool{}
	for r := range reqs {
		paths[r.path] = true
		if r.auth != "Bearer collector-key" || r.tenant != "ehigate" {
			t.Errorf("%s: headers from headers_file not sent: %+v", r.path, r)
		}
		if r.encoding != "gzip" {
			t.Errorf("%s: Content-Encoding %q, want gzip", r.path, r.encoding)
		}
	}
	for _, p := range []string{"/otlp/v1/traces", "/otlp/v1/metrics"} {
		if !paths[p] {
			t.Errorf("nothing exported to %s (got %v)", p, paths)
		}
	}
}

func TestNewBadHeadersFile(t *testing.T) {
	headers := t.TempDir() + "/headers"
	writeFile(t, headers, "Authorization Bearer forgot-the-colon\n")
	cfg := configs.DefaultTelemetry()
	cfg.OTLP.Endpoint, cfg.OTLP.Insecure, cfg.OTLP.HeadersFile = "127.0.0.1:4318", true, headers
	_, err := New(context.Background(), cfg, "test")
	if err == nil || !errors.Is(err, ErrHeadersFile) {
		t.Fatalf("New = %v, want ErrHeadersFile", err)
	}
	if strings.Contains(err.Error(), "forgot-the-colon") {
		t.Errorf("error reveals the header value: %v", err)
	}
}

// --- helpers ---

func metricOpt(key, value string) metric.MeasurementOption {
	return metric.WithAttributes(attribute.String(key, value))
}

func hasAttr(kvs []attribute.KeyValue, key, value string) bool {
	for _, kv := range kvs {
		if string(kv.Key) == key && kv.Value.Emit() == value {
			return true
		}
	}
	return false
}

func checkNoSecrets(t *testing.T, where string, kvs []attribute.KeyValue) {
	t.Helper()
	for _, kv := range kvs {
		if !Allowed(kv.Key) {
			t.Errorf("%s: attribute key %q is not on the allow-list", where, kv.Key)
		}
		v := kv.Value.Emit()
		for _, secret := range []string{secretToken, patientID, subjectID, "pat-0042"} {
			if strings.Contains(v, secret) {
				t.Errorf("%s: attribute %s carries %q", where, kv.Key, secret)
			}
		}
	}
}

func collect(t *testing.T, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func pointAttrs(m metricdata.Metrics) [][]attribute.KeyValue {
	var out [][]attribute.KeyValue
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes.ToSlice())
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes.ToSlice())
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes.ToSlice())
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes.ToSlice())
		}
	}
	return out
}

func find(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("metric %s not found", name)
	return metricdata.Metrics{}
}

// sumPoints returns the points of an int64 counter keyed by
// "action|exception|interaction".
func sumPoints(t *testing.T, rm metricdata.ResourceMetrics, name string) map[string]int64 {
	t.Helper()
	sum, ok := find(t, rm, name).Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is not an int64 sum", name)
	}
	out := map[string]int64{}
	for _, p := range sum.DataPoints {
		a, _ := p.Attributes.Value(KeyAction)
		e, _ := p.Attributes.Value(KeyException)
		i, _ := p.Attributes.Value(KeyInteraction)
		out[a.Emit()+"|"+e.Emit()+"|"+i.Emit()] += p.Value
	}
	return out
}

func gauge(t *testing.T, rm metricdata.ResourceMetrics, name string) int64 {
	t.Helper()
	g, ok := find(t, rm, name).Data.(metricdata.Gauge[int64])
	if !ok || len(g.DataPoints) != 1 {
		t.Fatalf("%s: %+v", name, find(t, rm, name).Data)
	}
	return g.DataPoints[0].Value
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
