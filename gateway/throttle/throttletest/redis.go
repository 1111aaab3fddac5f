// Package throttletest gives tests a Redis server: the shared one named by
// EHIGATE_TEST_REDIS (default redis://127.0.0.1:6379/0), or a private
// redis-server started on a free port, which a test may kill. Either is
// skipped when absent, unless EHIGATE_REQUIRE_SERVICES=1.
package throttletest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SharedURL returns the URL of the shared test Redis, skipping (or failing,
// when services are required) when it does not answer PING.
func SharedURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("EHIGATE_TEST_REDIS")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	pu, err := url.Parse(u)
	if err != nil {
		tb.Fatalf("EHIGATE_TEST_REDIS: %v", err)
	}
	if err := ping(pu.Host, time.Second); err != nil {
		unavailable(tb, fmt.Sprintf("Redis at %s does not answer (set EHIGATE_TEST_REDIS): %v", pu.Host, err))
	}
	return u
}

// Server is a private redis-server process.
type Server struct {
	URL  string
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs redis-server on a free loopback port, without persistence,
// and stops it when the test ends. It skips when the binary is absent.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(tb, "redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir := tb.TempDir()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	s := &Server{URL: "redis://" + addr + "/0", Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	tb.Cleanup(s.Kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(addr, 200*time.Millisecond); err == nil {
			return s
		} else if time.Now().After(deadline) {
			s.Kill()
			tb.Fatalf("redis-server on %s did not start: %v", addr, err)
		}
		select {
		case <-s.done:
			tb.Fatalf("redis-server on %s exited at start", addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Kill stops the server (SIGKILL, by its own pid) and waits for it to exit.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// ping sends PING and expects PONG.
func ping(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected answer %q", strings.TrimSpace(line))
	}
	return nil
}

func unavailable(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("EHIGATE_REQUIRE_SERVICES") == "1" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}
