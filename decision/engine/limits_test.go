package engine

import (
	"context"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// TestLimits checks that every throttle in play reaches the gateway, with
// its exception and notice, whatever the deciding action, and that the
// parameters are computed once.
func TestLimits(t *testing.T) {
	perApp := spec{id: "per-app", action: "throttle", exception: "health-it-performance.assured-performance",
		extra: map[string]any{"throttle": map[string]any{"key": "client_id", "rate": "10/s", "burst": 5, "on_store_failure": "deny"}}}
	global := spec{id: "global", action: "throttle", exception: "health-it-performance.assured-performance",
		extra: map[string]any{"throttle": map[string]any{"key": "global", "rate": "600/m", "on_store_failure": "allow"}}}
	emb := spec{id: "emb", action: "delay", exception: "not-interference.patient-requested-delay",
		match: map[string]any{"resource_types": []string{"DiagnosticReport"}, "resource_when": "true"},
		extra: map[string]any{"delay": map[string]any{"form": "embargo", "release_after": "72h", "from": "issued"}}}
	e := New(buildSet(t, perApp, global, emb), Options{})
	d := e.Decide(context.Background(), read("DiagnosticReport", "r"), &decision.Requester{ClientID: "c"}, now)
	if d.Action != decision.Delay || d.Delay == nil || d.Delay.Exception == nil || d.Delay.Notice.Message != "msg emb" {
		t.Fatalf("delay %+v", d.Delay)
	}
	if len(d.Limits) != 2 || d.Limits[0].Policy != "per-app" || d.Limits[1].Policy != "global" {
		t.Fatalf("limits %+v", d.Limits)
	}
	if l := d.Limits[1]; l.Rate != 10 || l.Burst != 1 || l.OnStoreFailure != decision.Allow || l.Exception == nil || l.Notice.Message != "msg global" {
		t.Fatalf("global limit %+v", l)
	}
	// An embargo is per resource: it is in play for every request.
	d2 := e.Decide(context.Background(), &fhir.Request{Interaction: fhir.SearchType, ResourceType: "Patient"}, &decision.Requester{}, now)
	if d2.Action != decision.Delay || len(d2.Limits) != 2 || d2.Limits[0] != d.Limits[0] {
		t.Fatal("throttle parameters are not shared between decisions")
	}
	e2 := New(buildSet(t, perApp, global), Options{})
	if d3 := e2.Decide(context.Background(), read("Patient", "p"), nil, now); d3.Action != decision.Throttle || d3.Limit != d3.Limits[0] {
		t.Fatalf("deciding throttle %+v", d3.Limit)
	}
}
