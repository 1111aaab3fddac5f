package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// TransportOptions tune the connection pool to the upstream.
type TransportOptions struct {
	// MaxIdleConns is the idle pool size, per host and in all; size it for
	// the expected concurrency (default 1024).
	MaxIdleConns int
	// MaxConns caps connections to the upstream (0 = no cap).
	MaxConns        int
	IdleConnTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers.
	ResponseHeaderTimeout time.Duration
	DialTimeout           time.Duration
	CAFile                string
	InsecureSkipVerify    bool
}

// NewTransport returns an http.Transport tuned for a reverse proxy: a
// large idle pool (Go's default keeps two idle connections per host,
// which churns connections under load), bounded timeouts, HTTP/2 when the
// upstream offers it, and no transparent decompression (the gateway passes
// gzip through and decodes only what it must inspect).
func NewTransport(o TransportOptions) *http.Transport {
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 1024
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = 50 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = 60 * time.Second
	}
	d := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          o.MaxIdleConns,
		MaxIdleConnsPerHost:   o.MaxIdleConns,
		MaxConnsPerHost:       o.MaxConns,
		IdleConnTimeout:       o.IdleConnTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		WriteBufferSize:       32 << 10,
		ReadBufferSize:        32 << 10,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify},
	}
}

// LoadCA adds the PEM certificates in file to t's trusted roots.
func LoadCA(t *http.Transport, file string) error {
	pem, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("gateway: upstream CA: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("gateway: upstream CA: no certificates in %s", file)
	}
	t.TLSClientConfig.RootCAs = pool
	return nil
}

// bufferPool lends the proxy 32 KiB copy buffers instead of allocating
// one per response.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b *bufferPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufferPool) Put(x []byte) { b.p.Put(&x) }
