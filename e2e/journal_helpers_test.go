package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision/store"
)

// buildGateway builds the ehigate binary into a temporary folder.
func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ehigate")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/ehigate/ehigate/cmd/ehigate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// fhirUpstream is a small EHR stand-in answering every read with a Patient.
func fhirUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprintf(w, `{"resourceType":"Patient","id":%q,"name":[{"family":"Test"}]}`, id)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// freePort returns a loopback address nothing listens on (for now).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// gateway is one running `ehigate serve`.
type gateway struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	log  *os.File
}

func writeConfig(t *testing.T, dir, addr, upstream, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`listen: %q
public_base_url: "http://%s/fhir"
upstream:
  url: %q
journal:
  chain: e2e
  checkpoint_every: 50
log:
  level: info
  format: json
%s`, addr, addr, upstream+"/fhir", extra)
	path := filepath.Join(dir, "ehigate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startGateway runs the binary with cfg, appending its log to logPath,
// and waits until it answers /healthz.
func startGateway(t *testing.T, bin, cfg, addr, logPath string) *gateway {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, cmd: cmd, addr: addr, log: logf}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log (checkpoints left out):\n%s", logTail(logPath, 40))
		}
		if g.cmd.ProcessState == nil {
			g.cmd.Process.Kill()
			g.cmd.Wait()
		}
		logf.Close()
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway did not start: %v (log %s)", err, logPath)
		}
	}
}

// kill sends SIGKILL and waits.
func (g *gateway) kill() {
	g.cmd.Process.Signal(syscall.SIGKILL)
	g.cmd.Wait()
}

// stop shuts the gateway down gracefully and checks it exited cleanly.
func (g *gateway) stop() {
	g.t.Helper()
	g.cmd.Process.Signal(syscall.SIGTERM)
	if err := g.cmd.Wait(); err != nil {
		g.t.Fatalf("gateway exit: %v", err)
	}
}

// readyz returns the /readyz body.
func (g *gateway) readyz() string {
	resp, err := http.Get("http://" + g.addr + "/readyz")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// answered is a response a client received in full.
type answered struct {
	worker, n int
	id        string
}

// load drives concurrent reads until stop is closed, each worker sending
// one request at a time, and returns every response received in full
// with its decision id.
func load(ctx context.Context, addr string, workers int, sent *atomic.Int64) []answered {
	var mu sync.Mutex
	var got []answered
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/fhir/Patient/p%d-%d", addr, w, n), nil)
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				id := resp.Header.Get("X-Ehigate-Decision")
				if err == nil && id != "" && resp.StatusCode == http.StatusOK {
					mu.Lock()
					got = append(got, answered{worker: w, n: n, id: id})
					mu.Unlock()
					sent.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return got
}

// waitCount waits until c reaches n.
func waitCount(t *testing.T, c *atomic.Int64, n int64) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); c.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d responses, want %d", c.Load(), n)
		}
	}
}

// runVerify runs `ehigate verify` and fails the test on a break.
func runVerify(t *testing.T, bin, cfg string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"verify", "--config", cfg}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ehigate verify: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\nOK\n") {
		t.Fatalf("ehigate verify did not say OK:\n%s", out)
	}
	return string(out)
}

// logHas reports whether the log file has a line containing s.
func logHas(path, s string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return true
		}
	}
	return false
}

type storeChain = store.Chain

// logTail returns the last n lines of a log that are not checkpoints.
func logTail(path string, n int) string {
	data, _ := os.ReadFile(path)
	var keep []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.Contains(l, `"msg":"journal checkpoint"`) {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}
