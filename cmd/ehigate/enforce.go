package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/consent"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/gateway/hold"
	"github.com/ehigate/ehigate/gateway/throttle"
)

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
