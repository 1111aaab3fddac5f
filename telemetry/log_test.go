package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

func TestLoggerAddsTraceIDs(t *testing.T) {
	h := newHarness(t, nil)
	ctx, span := h.tel.Tracer.Start(context.Background(), "request")
	defer span.End()
	sc := span.SpanContext()

	for _, tc := range []struct {
		name    string
		ctx     context.Context
		log     func(*slog.Logger, context.Context)
		wantIDs bool
	}{
		{"with span", ctx, func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "decided", "action", "deny") }, true},
		{"with attrs", ctx, func(l *slog.Logger, ctx context.Context) { l.With("chain", "pod-1").WarnContext(ctx, "spooling") }, true},
		{"without span", context.Background(), func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "started") }, false},
		{"no context", nil, func(l *slog.Logger, _ context.Context) { l.Info("started") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := NewLogger(&buf, "info", "json")
			if err != nil {
				t.Fatal(err)
			}
			tc.log(l, tc.ctx)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("not one JSON line: %q", buf.String())
			}
			tid, sid := rec[LogKeyTraceID], rec[LogKeySpanID]
			if !tc.wantIDs {
				if tid != nil || sid != nil {
					t.Errorf("ids without a span: %v", rec)
				}
				return
			}
			if tid != sc.TraceID().String() || sid != sc.SpanID().String() {
				t.Errorf("trace_id=%v span_id=%v, want %s %s", tid, sid, sc.TraceID(), sc.SpanID())
			}
		})
	}
}

func TestLoggerText(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "debug", "text")
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	l.DebugContext(trace.ContextWithSpanContext(context.Background(), sc), "x")
	if !strings.Contains(buf.String(), "trace_id="+sc.TraceID().String()) {
		t.Errorf("text log lacks trace_id: %q", buf.String())
	}
}

func TestNewLoggerErrors(t *testing.T) {
	for _, tc := range []struct{ level, format string }{{"loud", "json"}, {"info", "xml"}} {
		if _, err := NewLogger(&bytes.Buffer{}, tc.level, tc.format); err == nil {
			t.Errorf("NewLogger(%q, %q) accepted", tc.level, tc.format)
		}
	}
}

func TestTraceHandlerSharedRecord(t *testing.T) {
	// A record handed to two handlers must not get the ids twice.
	var a, b bytes.Buffer
	ha := NewTraceHandler(slog.NewJSONHandler(&a, nil))
	hb := NewTraceHandler(slog.NewJSONHandler(&b, nil))
	if NewTraceHandler(ha) != ha {
		t.Error("wrapping twice")
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{9}, SpanID: trace.SpanID{8}})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	r.AddAttrs(slog.Int("a", 1), slog.Int("b", 2), slog.Int("c", 3), slog.Int("d", 4), slog.Int("e", 5), slog.Int("f", 6))
	ha.Handle(ctx, r)
	hb.Handle(ctx, r)
	for _, out := range []string{a.String(), b.String()} {
		if strings.Count(out, LogKeyTraceID) != 1 {
			t.Errorf("trace_id not exactly once: %s", out)
		}
	}
}
