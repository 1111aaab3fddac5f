package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ehigate/ehigate/gateway"
)

// child is a process started for a benchmark.
type child struct {
	name string
	cmd  *exec.Cmd
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// startSelf runs this program in a role; the child prints its address on
// its first line of output.
func startSelf(ctx context.Context, role string, args ...string) (*child, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{role}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("%s did not start: %w", role, err)
	}
	return &child{name: role, cmd: cmd}, strings.TrimSpace(line), nil
}

// startProcess runs a command and waits until addr accepts connections.
func startProcess(ctx context.Context, name, addr string, argv ...string) (*child, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd}
	for i := 0; i < 200; i++ {
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			conn.Close()
			return c, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.stop()
	return nil, fmt.Errorf("%s did not start listening on %s", name, addr)
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runPlainProxy is the baseline: httputil.ReverseProxy with the same
// transport tuning ehigate uses and a buffer pool, nothing else.
func runPlainProxy(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("plainproxy UPSTREAM")
	}
	target, err := url.Parse(args[0])
	if err != nil {
		return err
	}
	target.Path = ""
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = gateway.NewTransport(gateway.TransportOptions{})
	rp.BufferPool = &pool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rp}
	fmt.Println(ln.Addr().String())
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type pool struct{ p sync.Pool }

func (b *pool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *pool) Put(x []byte) { b.p.Put(&x) }

// rssKB reads a process's resident set size in KiB.
func rssKB(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// buildEhigate compiles the gateway binary into dir.
func buildEhigate(ctx context.Context, dir string) (string, error) {
	bin := dir + "/ehigate"
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ehigate")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ehigate (run the bench from the repository root): %w", err)
	}
	return bin, nil
}

// stack is an upstream and an ehigate in front of it, each its own
// process, with the gateway's config and store in a temporary folder.
type stack struct {
	dir, bin, cfg  string
	upBase, gwAddr string
	up, gw         *child
}

// startStack builds ehigate and starts the upstream (serving n-entry
// search Bundles) and the gateway, with redactionPolicy in force when
// redact is set.
func startStack(ctx context.Context, entries int, redact bool) (*stack, error) {
	s := &stack{}
	var err error
	if s.dir, err = os.MkdirTemp("", "ehigate-bench-"); err != nil {
		return nil, err
	}
	if s.bin, err = buildEhigate(ctx, s.dir); err != nil {
		s.stop()
		return nil, err
	}
	if s.up, s.upBase, err = upstreamProcess(ctx, entries); err != nil {
		s.stop()
		return nil, err
	}
	s.gwAddr = freeAddr()
	if s.cfg, err = ehigateConfig(s.dir, s.gwAddr, s.upBase); err != nil {
		s.stop()
		return nil, err
	}
	if redact {
		if err := withRedaction(s.cfg); err != nil {
			s.stop()
			return nil, err
		}
	}
	if s.gw, err = startProcess(ctx, "ehigate", s.gwAddr, s.bin, "serve", "--config", s.cfg); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *stack) stop() {
	s.gw.stop()
	s.up.stop()
	os.RemoveAll(s.dir)
}
