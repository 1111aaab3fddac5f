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
	"slices"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/consent"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/journal/spool"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/postgres"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/gateway/admin"
	"github.com/ehigate/ehigate/gateway/auth"
	"github.com/ehigate/ehigate/gateway/hold"
	"github.com/ehigate/ehigate/gateway/throttle"
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

// openStore opens the configured record store.
func openStore(ctx context.Context, cfg *configs.Config) (store.Store, error) {
	if cfg.Store.UsesPostgres() {
		return postgres.Open(ctx, cfg.Store.Postgres.DSN, postgres.Options{MaxConns: int32(cfg.Store.Postgres.MaxConns)})
	}
	return sqlite.Open(ctx, cfg.Store.SQLite.Path)
}

// openJournal starts the gateway's journal writer: signed checkpoints,
// and a spool for when the store cannot be reached (replayed first).
func openJournal(ctx context.Context, cfg *configs.Config, st store.Store, log *slog.Logger, m *telemetry.Metrics) (*journal.Writer, *journal.Signer, error) {
	signer, err := loadSigner(cfg, true)
	if err != nil {
		return nil, nil, err
	}
	chain := chainName(cfg)
	sp, rec, err := spool.Open(cfg.SpoolPath(chain))
	if err != nil {
		return nil, nil, err
	}
	if rec.DroppedBytes > 0 {
		log.Warn("journal spool: dropped a record cut short by a crash (it was never acknowledged)", "bytes", rec.DroppedBytes)
	}
	log.Info("journal", "chain", chain, "signing_key_id", signer.KeyID(), "spool_depth", rec.Entries)
	w, err := journal.Open(ctx, st, journal.Options{
		Chain: chain, MaxBatch: cfg.Journal.MaxBatch, Logger: log,
		Signer: signer, CheckpointEvery: cfg.Journal.CheckpointEvery, CheckpointInterval: cfg.Journal.CheckpointInterval,
		Spool: sp, CommitTimeout: cfg.Journal.CommitTimeout,
		Observe: observeCommit(m),
	})
	if err != nil {
		sp.Close()
		return nil, nil, err
	}
	return w, signer, nil
}

// observeCommit reports each group commit's duration and size to m.
func observeCommit(m *telemetry.Metrics) func(int, time.Duration, error) {
	if m == nil {
		return nil
	}
	return func(batch int, took time.Duration, _ error) {
		ctx := context.Background()
		m.JournalCommitDuration.Record(ctx, took.Seconds())
		m.JournalBatchSize.Record(ctx, int64(batch))
	}
}

// retain prunes entries older than journal.retention, now and hourly,
// until ctx ends. Only ranges ending at a checkpoint this key signed are
// pruned; that checkpoint stays for verification.
func (a *app) retain(ctx context.Context, keys journal.Keyring) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		pruned, err := journal.Prune(ctx, a.store, time.Now().Add(-a.cfg.Journal.Retention), keys)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("journal retention", "err", err)
		}
		for _, p := range pruned {
			a.log.Info("journal retention pruned", "chain", p.Chain, "through_seq", p.Through, "checkpoint_at", p.At)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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

// enforcement is what the gateway needs to carry out throttles, holds,
// upstream refusals and the patients' Consents.
type enforcement struct {
	limiter      throttle.Limiter
	closeLimiter func() error
	holds        *hold.Manager
	refusals     []gateway.UpstreamRefusal
	consents     *consent.Source
}

// openEnforcement builds the throttles' limiter (Redis when configured),
// the holds' manager, the documented upstream refusals and the Consents in
// force (handed to the engine).
func (a *app) openEnforcement(ctx context.Context, public, upstream *url.URL, tr http.RoundTripper) error {
	cfg, e := a.cfg, &a.enf
	if r := cfg.Throttle.Redis; r.Enabled() {
		pw, err := r.ReadPassword()
		if err != nil {
			return err
		}
		rl, err := throttle.NewRedis(throttle.RedisOptions{URL: r.URL, Password: pw, Timeout: r.Timeout})
		if err != nil {
			return err
		}
		if err := rl.Ping(ctx); err != nil {
			a.log.Warn("throttle store unreachable at start; throttle policies apply their on_store_failure until it answers", "store", rl.String(), "err", err)
		}
		e.limiter, e.closeLimiter = rl, rl.Close
		a.log.Info("throttles shared", "store", rl.String())
	} else {
		e.limiter = throttle.NewMemory(nil)
	}
	e.holds = hold.New(hold.Options{Store: a.store, Journal: a.journal, Logger: a.log,
		Fetcher:  gateway.NewHoldFetcher(public, upstream, tr, 0),
		Interval: cfg.Holds.ReleaseInterval, Keep: cfg.Holds.Keep, MaxResponse: int64(cfg.Holds.MaxResponse),
		KeepFinished: cfg.Holds.KeepFinished})
	cat, err := exceptions.Load()
	if err != nil {
		return err
	}
	set, err := cfg.RefusalPolicies(cat)
	if err != nil {
		return err
	}
	for i, p := range set.Policies() {
		m := cfg.UpstreamRefusals[i].Match
		e.refusals = append(e.refusals, gateway.UpstreamRefusal{Ref: p.Ref(), Statuses: m.Status, IssueCodes: m.IssueCodes,
			Interactions: m.Interactions, ResourceTypes: m.ResourceTypes, ReviewBy: p.Documentation.ReviewBy})
	}
	return a.openConsents(ctx, upstream, tr)
}

// openConsents loads the Consents of the configured files, of the policy
// folders, and of the upstream when fetched, into the engine. Invalid
// Consents are logged and do not load.
func (a *app) openConsents(ctx context.Context, upstream *url.URL, tr http.RoundTripper) error {
	cfg := a.cfg
	src := consentSource(cfg, a.log)
	if f := cfg.ConsentsFetch; f != nil {
		src.Fetch = &consent.FetchOptions{Transport: tr, Base: upstream, Query: f.Query}
		src.Interval = f.Interval
		src.Header = f.ConsentHeaders
	}
	set, parsed, err := src.Load(ctx)
	for _, p := range parsed.Problems {
		a.log.Warn("consent not loaded", "problem", p.String())
	}
	if err != nil {
		a.log.Warn("consents not fetched from the upstream at start", "err", err)
	}
	if set.Len() > 0 && !cfg.UsesConsents() {
		return fmt.Errorf("%w (see configs/README.md)", errConsentsUnconfigured(set.Len()))
	}
	a.engine.SwapConsents(set)
	a.enf.consents = src
	a.log.Info("consents", "in_force", set.Len(), "skipped", len(parsed.Skipped), "invalid", len(parsed.Problems))
	return nil
}

// consentSource is where the configuration's Consents come from: the
// files of consents, the policy folders, and no fetch (the caller adds
// it).
func consentSource(cfg *configs.Config, log *slog.Logger) *consent.Source {
	cp := cfg.ConsentPolicy
	src := &consent.Source{Paths: slices.Clone(cfg.Consents), Logger: log, Options: consent.Options{
		Notice:   decision.Notice{Message: cp.Notice.Message, NextStep: cp.Notice.NextStep, Contact: cp.Notice.Contact},
		Disclose: cp.Disclose(), Actors: map[string]consent.ActorMatch{}}}
	for _, ac := range cp.Actors {
		src.Options.Actors[ac.Reference] = consent.ActorMatch{ClientIDs: ac.ClientID, Classes: ac.Class, Issuers: ac.Issuer, Subjects: ac.Subject}
	}
	for _, p := range cfg.Policies {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			src.Paths = append(src.Paths, p)
		}
	}
	return src
}

// errConsentsUnconfigured: Consents would be enforced with no
// consent_policy saying what to tell the requester.
func errConsentsUnconfigured(n int) error {
	return fmt.Errorf("%d Consents were found in the policy folders, but consent_policy is not configured", n)
}

// run starts the holds' releaser and the Consents' fetch loop until ctx
// ends.
func (e *enforcement) run(ctx context.Context, eng *engine.Engine) {
	if e.holds != nil {
		go e.holds.Run(ctx)
	}
	if e.consents != nil {
		go e.consents.Run(ctx, eng.SwapConsents)
	}
}
