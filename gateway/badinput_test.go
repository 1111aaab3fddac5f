package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/gateway"
)

// rawRequest sends bytes as they are (no client-side path cleaning) and
// returns the response.
func rawRequest(t *testing.T, base, req string) (*http.Response, []byte) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, strings.ReplaceAll(req, "HOST", u.Host)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

type outcomeDoc struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity, Code, Diagnostics string
		Details                     struct{ Text string }
	}
}

func TestBadInput(t *testing.T) {
	upstreamHits := 0
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamHits++
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"Patient","id":"1"}`)
	})
	hs := newHarness(t, ok, func(o *gateway.Options) {
		o.Limits.MaxHeaderBytes = 4 << 10
		o.Limits.MaxRequestBody = 64 << 10
	})
	big := strings.Repeat("a", 8<<10)
	batchBad := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/1"}},` // truncated JSON
	tests := []struct {
		name   string
		req    string
		status int
		reason string
	}{
		{"dot-dot segment", "GET /fhir/Patient/../Observation HTTP/1.1\r\nHost: HOST\r\n\r\n", 400, "malformed-path"},
		{"encoded dot-dot", "GET /fhir/Patient/%2e%2e/Observation HTTP/1.1\r\nHost: HOST\r\n\r\n", 400, "malformed-path"},
		{"encoded slash", "GET /fhir/Patient/a%2Fb HTTP/1.1\r\nHost: HOST\r\n\r\n", 400, "malformed-path"},
		{"encoded backslash", "GET /fhir/Patient/a%5Cb HTTP/1.1\r\nHost: HOST\r\n\r\n", 400, "malformed-path"},
		{"empty segment", "GET /fhir//Patient/1 HTTP/1.1\r\nHost: HOST\r\n\r\n", 400, "malformed-path"},
		{"unknown type", "GET /fhir/Foo/1 HTTP/1.1\r\nHost: HOST\r\n\r\n", 400, "unknown-resource-type"},
		{"invalid id", "GET /fhir/Patient/a$b HTTP/1.1\r\nHost: HOST\r\n\r\n", 400, "invalid-id"},
		{"method not allowed", "DELETE /fhir/metadata HTTP/1.1\r\nHost: HOST\r\n\r\n", 405, "method-not-allowed"},
		{"outside base", "GET /other/Patient/1 HTTP/1.1\r\nHost: HOST\r\n\r\n", 404, "outside-base"},
		{"base prefix only", "GET /fhirx/Patient/1 HTTP/1.1\r\nHost: HOST\r\n\r\n", 404, "outside-base"},
		{"headers too large", "GET /fhir/Patient/1 HTTP/1.1\r\nHost: HOST\r\nX-Big: " + big + "\r\n\r\n", 431, "headers-too-large"},
		{"body too large by length", "POST /fhir/Binary HTTP/1.1\r\nHost: HOST\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n", 413, "body-too-large"},
		{"batch body invalid JSON", fmt.Sprintf("POST /fhir HTTP/1.1\r\nHost: HOST\r\nContent-Type: application/fhir+json\r\nContent-Length: %d\r\n\r\n%s", len(batchBad), batchBad), 400, "invalid-body"},
		{"upgrade", "GET /fhir/Patient/1 HTTP/1.1\r\nHost: HOST\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 501, "upgrade-not-supported"},
	}
	ids := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, hs.base, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var oo outcomeDoc
			if err := json.Unmarshal(body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
				t.Fatalf("not an OperationOutcome: %s", body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
				t.Errorf("Content-Type %q", ct)
			}
			id := resp.Header.Get("X-Ehigate-Decision")
			if id == "" || !strings.Contains(oo.Issue[0].Diagnostics, id) {
				t.Fatalf("decision id missing from header or notice: %q / %q", id, oo.Issue[0].Diagnostics)
			}
			ids[id] = tc.reason
		})
	}
	if upstreamHits != 0 {
		t.Errorf("bad requests reached the upstream %d times", upstreamHits)
	}
	recs := byID(t, hs.records())
	for id, reason := range ids {
		r, ok := recs[id]
		if !ok {
			t.Fatalf("no record for %s", id)
		}
		if r.Action != decision.Error || r.FulfilledAt == nil || r.Status == 0 {
			t.Errorf("record %s: action %s status %d fulfilled %v", id, r.Action, r.Status, r.FulfilledAt)
		}
		if reason != "" && r.Reason != reason {
			t.Errorf("record %s: reason %q, want %q", id, r.Reason, reason)
		}
	}
}

// TestStreamedBodyTooLarge: a chunked body that passes the limit while
// streaming upstream is cut off, answered 413 and recorded.
func TestStreamedBodyTooLarge(t *testing.T) {
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		w.WriteHeader(201)
	}), func(o *gateway.Options) { o.Limits.MaxRequestBody = 32 << 10 })
	pr, pw := io.Pipe()
	go func() {
		chunk := strings.Repeat("x", 4096)
		for range 64 {
			if _, err := io.WriteString(pw, chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, hs.base+"/Binary", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	recs := byID(t, hs.records())
	r := recs[resp.Header.Get("X-Ehigate-Decision")]
	if r.Reason != "body-too-large" || r.Status != 413 {
		t.Fatalf("record: %+v", r)
	}
}

func TestUpstreamFailures(t *testing.T) {
	// A port with nothing listening.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/baseR4"
	ln.Close()

	tests := []struct {
		name     string
		upstream http.Handler
		mutate   func(*gateway.Options)
		status   int
		reason   string
	}{
		{
			name:     "down",
			upstream: http.NotFoundHandler(),
			mutate: func(o *gateway.Options) {
				o.Upstream, _ = url.Parse(dead)
			},
			status: 502, reason: "upstream-unreachable",
		},
		{
			name: "slow",
			upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			}),
			mutate: func(o *gateway.Options) {
				o.Transport = gateway.NewTransport(gateway.TransportOptions{ResponseHeaderTimeout: 200 * time.Millisecond})
			},
			status: 504, reason: "upstream-timeout",
		},
		{
			name: "garbage",
			upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, buf, _ := http.NewResponseController(w).Hijack()
				buf.WriteString("this is not HTTP\r\n\r\n")
				buf.Flush()
				conn.Close()
			}),
			status: 502, reason: "upstream-invalid-response",
		},
		{
			name: "bad gzip",
			upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				w.Header().Set("Content-Encoding", "gzip")
				w.Write([]byte("not gzip at all"))
			}),
			status: 502, reason: "upstream-invalid-response",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var muts []func(*gateway.Options)
			if tc.mutate != nil {
				muts = append(muts, tc.mutate)
			}
			hs := newHarness(t, tc.upstream, muts...)
			req, _ := http.NewRequest(http.MethodGet, hs.base+"/Patient/1", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var oo outcomeDoc
			if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
				t.Fatalf("not an OperationOutcome: %s", body)
			}
			recs := byID(t, hs.records())
			r, ok := recs[resp.Header.Get("X-Ehigate-Decision")]
			if !ok || len(recs) != 1 {
				t.Fatalf("want exactly one record, got %d", len(recs))
			}
			if r.Action != decision.Error || r.Reason != tc.reason || !r.HasFlag(decision.FlagUpstreamError) || r.Status != tc.status {
				t.Fatalf("record: action %s reason %q flags %v status %d", r.Action, r.Reason, r.Flags, r.Status)
			}
		})
	}
}

// failingJournal cannot commit anything.
type failingJournal struct{ calls int }

func (f *failingJournal) Append(context.Context, decision.EntryKind, string, any, *decision.Record) (decision.Entry, error) {
	f.calls++
	return decision.Entry{}, fmt.Errorf("disk full")
}
func (f *failingJournal) Submit(decision.EntryKind, string, any, *decision.Record) error {
	return fmt.Errorf("disk full")
}

// TestUnrecordableRequestNotServed: when the decision cannot be made
// durable, nothing is fetched from the EHR and the requester is told.
func TestUnrecordableRequestNotServed(t *testing.T) {
	hits := 0
	fj := &failingJournal{}
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }),
		func(o *gateway.Options) { o.Journal = fj })
	resp, body := get(t, client(), hs.base+"/Patient/1")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if hits != 0 {
		t.Fatal("the request reached the EHR without a durable record")
	}
	if fj.calls == 0 {
		t.Fatal("no attempt to record")
	}
}
