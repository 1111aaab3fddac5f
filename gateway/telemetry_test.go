package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/telemetry"
)

// denyObservations denies every Observation request under an exception.
type denyObservations struct{}

func (denyObservations) Decide(_ context.Context, req *fhir.Request, _ *decision.Requester, _ time.Time) decision.Decision {
	if req.ResourceType != "Observation" {
		return decision.Decision{Action: decision.Allow, Disclose: true}
	}
	return decision.Decision{
		Action:    decision.Deny,
		Exception: &decision.ExceptionRef{Code: "security.organizational-policy", CFR: "45 CFR 171.203(d)"},
		Policies:  []decision.PolicyRef{{ID: "no-obs", Version: "1", Action: decision.Deny}},
		Notice:    decision.Notice{Message: "Not available."},
	}
}

// TestTelemetryAllowedAndDenied sends an allowed and a denied request
// through the pipeline with in-memory exporters: the spans of every stage
// and the request metrics are there, the upstream continues the trace, the
// record carries the trace id, and no attribute carries the token, the
// patient or the path.
func TestTelemetryAllowedAndDenied(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.very-secret-token-value"
	const patient = "pat-0042"
	spans := tracetest.NewInMemoryExporter()
	reader := sdkmetric.NewManualReader()
	tel, err := telemetry.New(context.Background(), configs.DefaultTelemetry(), "test",
		telemetry.WithSpanExporter(spans), telemetry.WithSyncExport(), telemetry.WithMetricReader(reader))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	var mu sync.Mutex
	var upstreamTraceparent string
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstreamTraceparent = r.Header.Get("Traceparent")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprintf(w, `{"resourceType":"Patient","id":%q}`, patient)
	}), func(o *gateway.Options) {
		o.Tracer, o.Metrics, o.Decider = tel.Tracer, tel.Metrics, denyObservations{}
	})
	c := client()
	do := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, hs.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	allowed := do("/Patient/" + patient)
	denied := do("/Observation?subject=Patient/" + patient)
	if allowed.StatusCode != 200 || denied.StatusCode != 403 {
		t.Fatalf("statuses %d, %d", allowed.StatusCode, denied.StatusCode)
	}
	recs := byID(t, hs.records())

	byTrace := map[string][]tracetest.SpanStub{}
	for _, s := range spans.GetSpans() {
		id := s.SpanContext.TraceID().String()
		byTrace[id] = append(byTrace[id], s)
		for _, kv := range s.Attributes {
			v := kv.Value.Emit()
			if strings.Contains(v, patient) || strings.Contains(v, "very-secret") || strings.Contains(v, "/fhir") || !telemetry.Allowed(kv.Key) {
				t.Errorf("span %s carries %s=%q", s.Name, kv.Key, v)
			}
		}
	}
	for resp, want := range map[*http.Response][]string{
		allowed: {"ehigate.request", "identify", "classify", "decide", "record", "upstream"},
		denied:  {"ehigate.request", "identify", "classify", "decide", "record"},
	} {
		rec := recs[resp.Header.Get("X-Ehigate-Decision")]
		if rec.TraceID == "" {
			t.Fatalf("record %s has no trace id", rec.ID)
		}
		got := map[string]bool{}
		for _, s := range byTrace[rec.TraceID] {
			got[s.Name] = true
			if s.Name == "ehigate.request" {
				attrs := map[string]string{}
				for _, kv := range s.Attributes {
					attrs[string(kv.Key)] = kv.Value.Emit()
				}
				if attrs[telemetry.KeyAction] != rec.Action.String() || attrs[telemetry.KeyInteraction] != rec.Interaction {
					t.Errorf("request span attributes %v for a %s record", attrs, rec.Action)
				}
				if rec.Action == decision.Deny && attrs[telemetry.KeyException] != "security.organizational-policy" {
					t.Errorf("denied request span without its exception: %v", attrs)
				}
			}
		}
		for _, name := range want {
			if !got[name] {
				t.Errorf("%s request: no %q span (have %v)", rec.Action, name, got)
			}
		}
		if rec.Action == decision.Deny && got["upstream"] {
			t.Error("a denied request has an upstream span")
		}
		if rec.Action == decision.Allow && !strings.Contains(upstreamTraceparent, rec.TraceID) {
			t.Errorf("upstream traceparent %q does not continue trace %s", upstreamTraceparent, rec.TraceID)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	decisions := uint64(0)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					for _, kv := range p.Attributes.ToSlice() {
						if v := kv.Value.Emit(); strings.Contains(v, patient) || !telemetry.Allowed(kv.Key) {
							t.Errorf("metric %s carries %s=%q", m.Name, kv.Key, v)
						}
					}
					if m.Name == telemetry.MetricRequests {
						a, _ := p.Attributes.Value(telemetry.KeyAction)
						counts[a.Emit()] += p.Value
					}
				}
			case metricdata.Histogram[float64]:
				if m.Name == telemetry.MetricDecisionDuration {
					for _, p := range d.DataPoints {
						decisions += p.Count
					}
				}
			}
		}
	}
	if counts["allow"] != 1 || counts["deny"] != 1 {
		t.Errorf("requests counted by action: %v", counts)
	}
	if decisions != 2 {
		t.Errorf("%d decisions timed, want 2", decisions)
	}
}
