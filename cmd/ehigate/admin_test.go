package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
)

func TestAdminHashToken(t *testing.T) {
	ctx := context.Background()
	sum := sha256.Sum256([]byte("s3cret-token"))
	want := hex.EncodeToString(sum[:])
	withStdin(t, "s3cret-token\n", func() {
		var out, errb bytes.Buffer
		if code := run(ctx, []string{"admin", "hash-token"}, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != want {
			t.Fatalf("hash-token: %d %q %s", code, out.String(), errb.String())
		}
	})
	withStdin(t, "s3cret-token\n", func() {
		var out, errb bytes.Buffer
		if code := run(ctx, []string{"admin", "hash-token", "--name", "alice", "--role", "officer"}, &out, &errb); code != 0 ||
			out.String() != "alice officer "+want+"\n" {
			t.Fatalf("tokens_file line: %d %q", code, out.String())
		}
		if _, err := configs.ParseAdminTokens(out.Bytes()); err != nil {
			t.Fatalf("the line does not parse as a tokens file: %v", err)
		}
	})
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"admin", "hash-token", "--generate"}, &out, &errb); code != 0 {
		t.Fatalf("--generate: %d %s", code, errb.String())
	}
	tok := strings.TrimSpace(errb.String()[strings.LastIndex(errb.String(), ":")+1:])
	gsum := sha256.Sum256([]byte(tok))
	if len(tok) < 40 || strings.TrimSpace(out.String()) != hex.EncodeToString(gsum[:]) {
		t.Fatalf("generated token %q does not hash to %q", tok, out.String())
	}
	for _, bad := range [][]string{{"admin"}, {"admin", "hash"}, {"admin", "hash-token", "--role", "boss", "--name", "x"}} {
		if code := run(ctx, bad, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d", bad, code)
		}
	}
}

func withStdin(t *testing.T, in string, fn func()) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(in)
	f.Seek(0, 0)
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old; f.Close() }()
	fn()
}

// TestAdminListener serves the gateway with its admin listener: the
// probes on both listeners, /metrics, the compliance API with a token
// (refused without), and the reads journaled; then a graceful shutdown of
// both.
func TestAdminListener(t *testing.T) {
	_, cfgFile := gatewayWithRecords(t)
	const token = "admin-listener-test-token"
	sum := sha256.Sum256([]byte(token))
	data, _ := os.ReadFile(cfgFile)
	data = append(data, fmt.Sprintf("admin:\n  listen: \"127.0.0.1:0\"\n  tokens:\n    - {name: investigator, role: auditor, sha256: %x}\n", sum)...)
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if a.adminLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	adminURL, fhirURL := "http://"+a.adminLn.Addr().String(), "http://"+ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()
	get := func(url, tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		var resp *http.Response
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, base := range []string{adminURL, fhirURL} {
		if code, body := get(base+"/readyz", ""); code != 200 || !strings.Contains(body, "store: ok\nspool_depth: 0\n") {
			t.Errorf("%s/readyz: %d %q", base, code, body)
		}
		if code, body := get(base+"/healthz", ""); code != 200 || body != "ok\n" {
			t.Errorf("%s/healthz: %d %q", base, code, body)
		}
	}
	// A request through the gateway shows in the metrics: the gateway,
	// the journal and the gauges report to the process's telemetry.
	// (Its upstream is not running: a 502, counted as an upstream error.)
	if code, _ := get(fhirURL+"/fhir/metadata", ""); code != 502 {
		t.Errorf("metadata through the gateway: %d", code)
	}
	code, metrics := get(adminURL+"/metrics", "")
	if code != 200 {
		t.Errorf("/metrics: %d %.300s", code, metrics)
	}
	for _, series := range []string{"ehigate_requests_total{", "ehigate_decision_duration_seconds_bucket{",
		"ehigate_journal_commit_duration_seconds_count", "ehigate_journal_batch_size_count",
		"ehigate_upstream_errors_total{", "ehigate_journal_spool_depth", "ehigate_policies_review_overdue"} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if code, _ := get(adminURL+"/api/records", ""); code != 401 {
		t.Errorf("no credentials: %d", code)
	}
	code, body := get(adminURL+"/api/records?action=deny", token)
	var page struct{ Records []decision.Record }
	if code != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page.Records) == 0 {
		t.Fatalf("records: %d %s", code, body)
	}
	if code, body := get(adminURL+"/fhir/AuditEvent?_count=2", token); code != 200 || !strings.Contains(body, `"resourceType":"Bundle"`) {
		t.Errorf("AuditEvent: %d %.200s", code, body)
	}
	stop()
	if err := <-served; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", a.adminLn.Addr().String()); err == nil {
		t.Error("the admin listener is still open after shutdown")
	}
	// The reads are in the journal, under the gateway's chain.
	var out bytes.Buffer
	if code := run(context.Background(), []string{"records", "--config", cfgFile, "--format", "jsonl"}, &out, io.Discard); code != 0 {
		t.Fatal("records")
	}
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var whats []string
	st.Entries(context.Background(), chainName(cfg), 1, 0, func(e decision.Entry) error {
		if e.Kind == decision.KindAccess {
			var acc decision.Access
			json.Unmarshal(e.Payload, &acc)
			whats = append(whats, acc.Actor+" "+acc.What+" "+fmt.Sprint(acc.Status))
		}
		return nil
	})
	for _, want := range []string{"anonymous GET /api/records 401", "investigator GET /api/records?action=deny 200", "investigator GET /fhir/AuditEvent?_count=2 200"} {
		found := false
		for _, w := range whats {
			found = found || w == want
		}
		if !found {
			t.Errorf("no access %q in %v", want, whats)
		}
	}
}

// TestReportKinds runs every report kind from the command line.
func TestReportKinds(t *testing.T) {
	_, cfgFile := gatewayWithRecords(t)
	ctx := context.Background()
	for _, args := range [][]string{
		{"report", "restrictions", "--format", "json"},
		{"report", "restrictions"},
		{"report", "fulfilment"},
		{"report", "in-use", "--format", "json"},
		{"report", "repeated", "--min", "1"},
		{"report", "consistency"},
		{"report", "undocumented"},
		{"report", "reviews", "--review-within", "3650d"},
		{"report", "notices", "--format", "json"},
		{"report", "all", "--format", "html"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(ctx, append(args, "--config", cfgFile), &out, &errb); code != 0 || out.Len() == 0 {
				t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
			}
			switch {
			case args[1] == "restrictions" && len(args) > 2:
				var r struct {
					Kind         string
					Restrictions int
					ByException  []struct{ Name string } `json:"by_exception"`
					ByPolicy     []struct{ Name string } `json:"by_policy"`
				}
				// The redactions that also matched did not decide the denials.
				if json.Unmarshal(out.Bytes(), &r) != nil || r.Kind != "restrictions" || r.Restrictions != 2 || len(r.ByException) != 1 ||
					r.ByException[0].Name != "infeasibility.segmentation" || len(r.ByPolicy) != 1 || r.ByPolicy[0].Name != "no-legacy-docs" {
					t.Fatalf("%s", out.String())
				}
			case args[1] == "in-use":
				if !strings.Contains(out.String(), `"id": "no-legacy-docs"`) {
					t.Fatalf("%s", out.String())
				}
			case args[1] == "all":
				if !strings.HasPrefix(out.String(), "<!DOCTYPE html>") || !strings.Contains(out.String(), `id="notices"`) {
					t.Fatalf("%.300s", out.String())
				}
			}
		})
	}
	if code := run(ctx, []string{"report", "all", "--config", cfgFile}, io.Discard, io.Discard); code != 2 {
		t.Errorf("report all as a table: exit %d", code)
	}
	_ = filepath.Join
}
