package admin

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
)

func TestReadiness(t *testing.T) {
	down := func(context.Context) error { return errors.New("connection refused") }
	up := func(context.Context) error { return nil }
	tests := []struct {
		name string
		rd   Readiness
		code int
		body string
	}{
		{"store ok", Readiness{Ping: up, SpoolDepth: func() int { return 0 }, Spooled: true, PoliciesLoaded: func() bool { return true }},
			200, "ready\nstore: ok\nspool_depth: 0\npolicies: loaded\n"},
		{"spooling", Readiness{Ping: down, SpoolDepth: func() int { return 12 }, Spooled: true},
			200, "ready\nstore: unreachable (records are spooled)\nspool_depth: 12\n"},
		{"no spool", Readiness{Ping: down}, 503, "not ready\nstore: unreachable\nspool_depth: 0\n"},
		{"no policies", Readiness{Ping: up, PoliciesLoaded: func() bool { return false }}, 503, "not ready\nstore: ok\nspool_depth: 0\npolicies: not loaded\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.rd.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
			if w.Code != tc.code || w.Body.String() != tc.body {
				t.Fatalf("%d %q, want %d %q", w.Code, w.Body, tc.code, tc.body)
			}
		})
	}
}
