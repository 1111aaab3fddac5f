package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
)

// runCheck validates a configuration and its policies, printing every
// problem as file:line: key.path: message; it exits 1 when there is any.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "ehigate check: --config is required")
		return errUsage
	}
	var ps yamlx.Problems
	cfg, err := configs.Load(*file)
	paths, interval := []string(nil), policy.DefaultMaxReviewInterval
	switch {
	case err == nil:
		paths, interval = cfg.Policies, cfg.PolicyReview.MaxInterval
	case errors.As(err, &ps):
		// Check the policies too, so that every problem shows at once.
		paths = policyPathsOf(*file)
	default:
		return err
	}
	set, perr := loadPolicies(paths, interval)
	if errors.As(perr, new(yamlx.Problems)) {
		var more yamlx.Problems
		errors.As(perr, &more)
		ps = append(ps, more...)
	} else if perr != nil {
		return perr
	}
	if cfg != nil {
		// The local Consents (the upstream's are fetched only by serve).
		cset, parsed, _ := consentSource(cfg, slog.New(slog.DiscardHandler)).Load(ctx)
		ps = append(ps, parsed.Problems...)
		if cset.Len() > 0 && !cfg.UsesConsents() {
			ps.Add(*file, 0, "consent_policy", "%v", errConsentsUnconfigured(cset.Len()))
		}
	}
	if set != nil && cfg != nil && len(ps) == 0 {
		if herr := checkHistory(ctx, cfg, set, false); herr != nil {
			var more yamlx.Problems
			if !errors.As(herr, &more) {
				return herr
			}
			ps = append(ps, more...)
		}
	}
	if len(ps) > 0 {
		ps.Sort()
		for _, p := range ps {
			fmt.Fprintln(stdout, p)
		}
		fmt.Fprintf(stderr, "ehigate check: %d problem(s)\n", len(ps))
		return exitError{1}
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	for _, r := range set.Reviews(time.Now(), 30*24*time.Hour) {
		fmt.Fprintf(stdout, "review: %s\n", r)
	}
	fmt.Fprintf(stdout, "ok: %s and %d policies; policy set %s; exception catalog %s\n",
		*file, len(set.Policies()), set.Hash(), set.Catalog().Version())
	return nil
}

// policyPathsOf reads only the policies key of a configuration that did
// not load, resolving its paths like configs.Load does.
func policyPathsOf(file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var c struct {
		Policies []string `yaml:"policies"`
	}
	if yaml.Unmarshal(data, &c) != nil {
		return nil
	}
	for i, p := range c.Policies {
		if !filepath.IsAbs(p) {
			c.Policies[i] = filepath.Join(filepath.Dir(file), p)
		}
	}
	return c.Policies
}

// loadPolicies loads the policy set of the configuration, validated
// against the embedded exception catalog.
func loadPolicies(paths []string, maxInterval time.Duration) (*policy.Set, error) {
	cat, err := exceptions.Load()
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return policy.Empty(cat), nil
	}
	return policy.Load(paths, policy.Options{Catalog: cat, MaxReviewInterval: maxInterval})
}

// latestPolicySet returns the texts of the policy set last in force, from
// the journal ("" and nil when there is none).
func latestPolicySet(ctx context.Context, st store.Store) (string, []decision.PolicyText, error) {
	ptrs, err := st.RecordEntries(ctx, policy.LatestRecordID)
	if err != nil || len(ptrs) == 0 {
		return "", nil, err
	}
	var last decision.PolicySet
	if err := json.Unmarshal(ptrs[len(ptrs)-1].Payload, &last); err != nil {
		return "", nil, fmt.Errorf("policy set pointer: %w", err)
	}
	es, err := st.RecordEntries(ctx, policy.RecordID(last.Hash))
	if err != nil {
		return "", nil, err
	}
	for _, e := range es {
		var ps decision.PolicySet
		if json.Unmarshal(e.Payload, &ps) == nil && len(ps.Texts) > 0 {
			return last.Hash, ps.Texts, nil
		}
	}
	return last.Hash, nil, nil
}

// checkHistory compares set with the set last in force in the store. The
// store is only opened when it exists (check must not create one) unless
// open is set.
func checkHistory(ctx context.Context, cfg *configs.Config, set *policy.Set, open bool) error {
	if !open && !cfg.Store.UsesPostgres() {
		if _, err := os.Stat(cfg.Store.SQLite.Path); err != nil {
			return nil
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("policy history: %w", err)
	}
	defer st.Close()
	return checkHistoryIn(ctx, st, set)
}

func checkHistoryIn(ctx context.Context, st store.Store, set *policy.Set) error {
	hash, texts, err := latestPolicySet(ctx, st)
	if err != nil {
		return fmt.Errorf("policy history: %w", err)
	}
	if hash == "" || hash == set.Hash() {
		return nil
	}
	return set.CheckHistory(texts)
}

// recordPolicySet journals the set taking effect: its full texts under
// policyset:<hash> the first time that set is in force, and a pointer
// entry under policyset:latest whenever the set in force changes.
func recordPolicySet(ctx context.Context, st store.Store, j *journal.Writer, set *policy.Set) error {
	es, err := st.RecordEntries(ctx, policy.RecordID(set.Hash()))
	if err != nil {
		return err
	}
	now := time.Now()
	if len(es) == 0 {
		if _, err := j.Append(ctx, decision.KindPolicySet, policy.RecordID(set.Hash()), set.Entry(newID(), now), nil); err != nil {
			return fmt.Errorf("record the policy set: %w", err)
		}
	}
	latest, _, err := latestPolicySet(ctx, st)
	if err != nil || latest == set.Hash() {
		return err
	}
	ptr := decision.PolicySet{ID: newID(), At: now.UTC(), Hash: set.Hash(), Policies: set.Refs(), Source: set.Source(), CatalogVersion: set.Catalog().Version()}
	if _, err := j.Append(ctx, decision.KindPolicySet, policy.LatestRecordID, ptr, nil); err != nil {
		return fmt.Errorf("record the policy set: %w", err)
	}
	return nil
}

// openPolicies loads the configured policies (serve refuses to start on
// any problem, as check reports them), checks them against the set last
// in force, journals the set and returns the engine deciding under it.
func (a *app) openPolicies(ctx context.Context) (*engine.Engine, error) {
	set, err := loadPolicies(a.cfg.Policies, a.cfg.PolicyReview.MaxInterval)
	if err != nil {
		return nil, err
	}
	if err := checkHistoryIn(ctx, a.store, set); err != nil {
		return nil, err
	}
	if err := recordPolicySet(ctx, a.store, a.journal, set); err != nil {
		return nil, err
	}
	for _, w := range set.Warnings {
		a.log.Warn("policy", "warning", w.String())
	}
	for _, r := range set.Reviews(time.Now(), 0) {
		a.log.Warn("policy review overdue", "policy", r.Policy.ID, "version", r.Policy.Version, "review_by", r.ReviewBy.Format("2006-01-02"), "lapsed", r.Lapsed)
	}
	a.log.Info("policies", "count", len(set.Policies()), "policy_set", set.Hash(), "catalog", set.Catalog().Version())
	return engine.New(set, engine.Options{Calendar: notices.NewCalendar(a.cfg.Notices.Location())}), nil
}
