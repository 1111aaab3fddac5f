package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWithConsole: /console/ is the console, GET / goes to it, the rest
// is the API.
func TestWithConsole(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	h, err := withConsole(api, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		code         int
		loc, body    string
	}{
		{"GET", "/", http.StatusSeeOther, "/console/", ""},
		{"GET", "/console/decisions", http.StatusSeeOther, "/console/signin", ""},
		{"GET", "/console/signin", http.StatusOK, "", ""},
		{"GET", "/api/records", http.StatusOK, "", "api /api/records"},
		{"GET", "/healthz", http.StatusOK, "", "api /healthz"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.loc || (tc.body != "" && rec.Body.String() != tc.body) {
			t.Errorf("%s %s: %d %q %q", tc.method, tc.path, rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
	}
}
