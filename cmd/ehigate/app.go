package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/gateway/admin"
	"github.com/ehigate/ehigate/gateway/auth"
	"github.com/ehigate/ehigate/telemetry"
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
	// stopRetention ends the retention loop.
	stopRetention context.CancelFunc
	// auth identifies requesters (nil when auth.mode is off); smartConfig
	// is the SMART configuration document served (nil: proxied).
	auth        *auth.Authenticator
	smartConfig []byte
	// engine decides under the policy set in force; reloads swap it.
	engine *engine.Engine
	// enforcement: the throttles' limiter, the holds' manager and the
	// patients' Consents (enforce.go of the gateway).
	enf enforcement
	// signer signs the journal's checkpoints.
	signer *journal.Signer
	// tel is the process's telemetry (metrics served on the admin
	// listener); admin is the admin listener's handler, served on adminLn
	// (opened from admin.listen unless the caller set it) by adminServer;
	// readiness answers /readyz on both listeners (admin.go).
	tel         *telemetry.Telemetry
	admin       *admin.Handler
	adminCreds  *admin.Credentials
	adminLn     net.Listener
	adminServer *http.Server
	readiness   *admin.Readiness
}

func openApp(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.store = st
	// Telemetry first: the journal and the gateway report to it. Its own
	// failures (an OTLP collector down) are logged, not printed.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("telemetry", "err", err) }))
	if a.tel, err = telemetry.New(ctx, cfg.Telemetry, version); err != nil {
		a.close(ctx)
		return nil, err
	}
	var signer *journal.Signer
	a.journal, signer, err = openJournal(ctx, cfg, st, log, a.tel.Metrics)
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	a.signer = signer
	if cfg.Journal.Retention > 0 {
		rctx, cancel := context.WithCancel(context.Background())
		a.stopRetention = cancel
		go a.retain(rctx, journal.NewKeyring(signer.Public()))
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
	if err := a.openAuth(); err != nil {
		a.close(ctx)
		return nil, err
	}
	decider, err := a.openPolicies(ctx)
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	a.engine = decider
	if err := a.openEnforcement(ctx, public, upstream, tr); err != nil {
		a.close(ctx)
		return nil, err
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
		Decider: decider,
		Links:   st,
		Logger:  log,
		Tracer:  a.tel.Tracer,
		Metrics: a.tel.Metrics,

		Identifier:         a.identifier(),
		RequireIdentity:    cfg.Auth.Mode == configs.AuthVerify,
		Scopes:             gateway.ScopeOptions{Enforce: cfg.Auth.Enforce(), DenialException: cfg.Auth.ScopeDenialException},
		SmartConfiguration: a.smartConfig,

		Limiter:  a.enf.limiter,
		Holds:    a.enf.holds,
		Refusals: a.enf.refusals,
	})
	if err != nil {
		a.close(ctx)
		return nil, err
	}
	if err := a.openAdmin(ctx); err != nil {
		a.close(ctx)
		return nil, err
	}
	mux := http.NewServeMux()
	// The probes live on the admin listener; the FHIR listener keeps them
	// for compatibility (unrecorded, like there).
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", a.readiness)
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

// serve runs the FHIR listener and the admin listener until ctx ends,
// then shuts both down gracefully: stop accepting, let in-flight requests
// finish, flush the journal.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 2)
	if err := a.startAdmin(errc); err != nil {
		a.close(context.Background())
		return err
	}
	go func() { errc <- a.server.Serve(ln) }()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go a.watchPolicies(wctx)
	a.enf.run(wctx, a.engine)
	a.log.Info("gateway listening", "addr", ln.Addr().String(), "public_base_url", a.cfg.PublicBaseURL)
	select {
	case err := <-errc:
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.server.Shutdown(sctx)
		a.stopAdmin(sctx)
		a.close(context.Background())
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminDone := make(chan error, 1)
	go func() { adminDone <- a.stopAdmin(sctx) }()
	err := a.server.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("in-flight requests did not finish in time")
	}
	// The admin listener journals through the writer: stopped first.
	err = errors.Join(err, <-adminDone)
	return errors.Join(err, a.close(sctx))
}

func (a *app) close(ctx context.Context) error {
	var errs []error
	if a.stopRetention != nil {
		a.stopRetention()
	}
	if a.auth != nil {
		a.auth.Close()
	}
	if a.adminCreds != nil {
		a.adminCreds.Close()
	}
	if a.enf.closeLimiter != nil {
		a.enf.closeLimiter()
	}
	if a.journal != nil {
		errs = append(errs, a.journal.Close(ctx))
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	if a.tel != nil {
		errs = append(errs, a.tel.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// openAuth builds identity from the auth section: the Authenticator
// (verify and passthrough modes) and the SMART configuration to serve.
func (a *app) openAuth() error {
	ac := &a.cfg.Auth
	doc, err := ac.SmartConfigurationDocument()
	if err != nil {
		return err
	}
	a.smartConfig = doc
	if ac.Mode == configs.AuthOff {
		return nil
	}
	opts := auth.Options{
		Mode:            auth.Mode(ac.Mode),
		Leeway:          ac.Leeway,
		MaxTokenBytes:   int(ac.MaxTokenBytes),
		AllowQueryToken: ac.AllowQueryToken,
		DefaultClass:    decision.Class(ac.DefaultClass),
		PurposeClaims:   ac.PurposeClaims,
		Logger:          a.log,
	}
	for _, is := range ac.Issuers {
		ai := auth.Issuer{Issuer: is.Issuer, JWKSURL: is.JWKSURL, Audience: is.Audience, Algorithms: is.Algorithms}
		if in := is.Introspection; in != nil {
			secret, err := in.ReadClientSecret()
			if err != nil {
				return err
			}
			ai.Introspection = &auth.Introspection{URL: in.URL, ClientID: in.ClientID, ClientSecret: secret}
		}
		opts.Issuers = append(opts.Issuers, ai)
	}
	for _, r := range ac.Classes {
		opts.Classes = append(opts.Classes, auth.ClassRule{Class: decision.Class(r.Class), Issuer: r.When.Issuer,
			ClientID: r.When.ClientID, Claims: r.When.ClaimValues()})
	}
	a.auth, err = auth.New(context.Background(), opts)
	return err
}

// identifier returns the Authenticator as the gateway's Identifier, or nil
// when identity is not configured.
func (a *app) identifier() gateway.Identifier {
	if a.auth == nil {
		return nil
	}
	return a.auth
}
