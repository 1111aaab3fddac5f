package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/gateway"
)

// app is the running gateway assembled from a configuration: the
// composition root, where every dependency is built and handed over.
type app struct {
	cfg     *configs.Config
	log     *slog.Logger
	store   store.Store
	journal *journal.Writer
	handler *gateway.Handler
	server  *http.Server
}

// openStore opens the configured record store.
func openStore(ctx context.Context, cfg *configs.Config) (store.Store, error) {
	return sqlite.Open(ctx, cfg.Store.SQLite.Path)
}

func chainName(cfg *configs.Config) string {
	if cfg.Journal.Chain != "" {
		return cfg.Journal.Chain
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "ehigate"
}

func openApp(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.store = st
	a.journal, err = journal.Open(ctx, st, journal.Options{Chain: chainName(cfg), MaxBatch: cfg.Journal.MaxBatch, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	public, _ := url.Parse(cfg.PublicBaseURL)
	upstream, _ := url.Parse(cfg.Upstream.URL)
	tr := gateway.NewTransport(gateway.TransportOptions{
		MaxIdleConns:          cfg.Upstream.MaxIdleConns,
		MaxConns:              cfg.Upstream.MaxConns,
		IdleConnTimeout:       cfg.Upstream.IdleConnTimeout,
		ResponseHeaderTimeout: cfg.Upstream.Timeout,
		DialTimeout:           cfg.Upstream.DialTimeout,
		InsecureSkipVerify:    cfg.Upstream.InsecureSkipVerify,
	})
	if cfg.Upstream.CAFile != "" {
		if err := gateway.LoadCA(tr, cfg.Upstream.CAFile); err != nil {
			a.close(ctx)
			return nil, err
		}
	}
	a.handler, err = gateway.New(gateway.Options{
		PublicBase: public,
		Upstream:   upstream,
		Transport:  tr,
		Limits: gateway.Limits{
			MaxHeaderBytes: int64(cfg.Limits.MaxHeaderBytes),
			MaxRequestBody: int64(cfg.Limits.MaxRequestBody),
			InspectBody:    int64(cfg.Limits.InspectBody),
			MaxResource:    int64(cfg.Limits.MaxResource),
		},
		Journal: a.journal,
		Links:   st,
		Logger:  log,
	})
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("/", a.handler)
	a.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.Limits.ReadHeaderTimeout,
		IdleTimeout:       cfg.Limits.IdleTimeout,
		// The configured header limit is enforced (and recorded) by the
		// gateway; this only stops abuse before a request exists.
		MaxHeaderBytes: max(2*int(cfg.Limits.MaxHeaderBytes), 1<<20),
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

func (a *app) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// serve runs the FHIR listener until ctx ends, then shuts down gracefully:
// stop accepting, let in-flight requests finish, flush the journal.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(ln) }()
	a.log.Info("gateway listening", "addr", ln.Addr().String(), "public_base_url", a.cfg.PublicBaseURL)
	select {
	case err := <-errc:
		a.close(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := a.server.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("in-flight requests did not finish in time")
	}
	return errors.Join(err, a.close(sctx))
}

func (a *app) close(ctx context.Context) error {
	var errs []error
	if a.journal != nil {
		errs = append(errs, a.journal.Close(ctx))
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	return errors.Join(errs...)
}
