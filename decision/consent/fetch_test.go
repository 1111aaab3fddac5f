package consent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestFetch(t *testing.T) {
	consent := func(id string) string {
		return `{"resource":{"resourceType":"Consent","id":"` + id + `","status":"active","patient":{"reference":"Patient/p"},"dateTime":"2026-01-01","provision":{"type":"deny"}}}`
	}
	var srv *httptest.Server
	var auth []string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/fhir+json")
		switch r.URL.Query().Get("page") {
		case "":
			if r.URL.Path != "/fhir/Consent" || r.URL.Query().Get("status") != "active" {
				http.Error(w, "bad search", 400)
				return
			}
			w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + srv.URL + `/fhir/Consent?page=2"}],
				"entry":[` + consent("a") + `,{"resource":{"resourceType":"Consent","id":"bad","status":"active"}}]}`))
		case "2":
			w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"https://elsewhere.example/fhir/Consent?page=3"}],
				"entry":[` + consent("b") + `]}`))
		default:
			t.Error("followed a next link to another server")
		}
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL + "/fhir")
	opts := FetchOptions{Transport: http.DefaultTransport, Base: base, Query: "Consent?status=active",
		Header: http.Header{"Authorization": {"Bearer gw"}}}
	p, err := Fetch(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Consents) != 2 || p.Consents[0].ID != "a" || p.Consents[1].ID != "b" {
		t.Fatalf("consents %+v", p.Consents)
	}
	if len(p.Problems) == 0 || p.Problems[0].File != "upstream page 1" || !strings.HasPrefix(p.Problems[0].Path, "/entry/1/resource/") {
		t.Fatalf("problems %v", p.Problems)
	}
	if strings.Join(auth, ",") != "Bearer gw,Bearer gw" {
		t.Fatalf("authorization sent: %v", auth)
	}
	opts.Query = "Nothing?x=1"
	if _, err := Fetch(context.Background(), opts); !errors.Is(err, ErrFetch) {
		t.Fatalf("a failed search: %v", err)
	}
}
