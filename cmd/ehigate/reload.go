package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ehigate/ehigate/configs/yamlx"
)

// reloadDebounce gathers the bursts of file events one save makes (an
// editor's rename and write, or a Kubernetes ConfigMap's symlink swap)
// into one reload.
const reloadDebounce = 300 * time.Millisecond

// watchPolicies reloads the policy files when they change and on SIGHUP,
// until ctx ends. A set with any problem is rejected, its problems
// logged, and the set in force keeps running; a valid new set is
// journalled and takes effect atomically for requests decided after it.
func (a *app) watchPolicies(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var errs <-chan error
	if w, err := a.policyWatcher(); err != nil {
		a.log.Warn("policy files are not watched for changes; reload with SIGHUP", "err", err)
	} else if w != nil {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			a.reloadPolicies(ctx, "SIGHUP")
		case ev := <-events:
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(reloadDebounce)
			} else {
				timer.Reset(reloadDebounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			a.reloadPolicies(ctx, "file change")
		case err := <-errs:
			a.log.Warn("policy file watcher", "err", err)
		}
	}
}

// policyWatcher watches the folders holding the configured policy files
// (a file's folder, so that replacing the file is seen), or nil when no
// policies are configured.
func (a *app) policyWatcher() (*fsnotify.Watcher, error) {
	if len(a.cfg.Policies) == 0 {
		return nil, nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range a.cfg.Policies {
		dir := p
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			dir = filepath.Dir(p)
		}
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if err := w.Add(dir); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// reloadMu serialises reloads (SIGHUP and file events may race).
var reloadMu sync.Mutex

// reloadPolicies loads, checks and journals the policy set, then swaps it
// into the engine. It returns the problems of a rejected set.
func (a *app) reloadPolicies(ctx context.Context, why string) error {
	reloadMu.Lock()
	defer reloadMu.Unlock()
	set, err := loadPolicies(a.cfg.Policies, a.cfg.PolicyReview.MaxInterval)
	if err == nil {
		if set.Hash() == a.engine.Set().Hash() {
			a.log.Info("policies unchanged", "trigger", why, "policy_set", set.Hash())
			return nil
		}
		err = checkHistoryIn(ctx, a.store, set)
	}
	if err == nil {
		err = recordPolicySet(ctx, a.store, a.journal, set)
	}
	if err != nil {
		var ps yamlx.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				a.log.Error("policy reload rejected", "trigger", why, "problem", p.String())
			}
		} else {
			a.log.Error("policy reload rejected", "trigger", why, "err", err)
		}
		a.log.Warn("the policy set in force is unchanged", "policy_set", a.engine.Set().Hash())
		return err
	}
	a.engine.Swap(set)
	for _, w := range set.Warnings {
		a.log.Warn("policy", "warning", w.String())
	}
	a.log.Info("policies reloaded", "trigger", why, "count", len(set.Policies()), "policy_set", set.Hash())
	return nil
}
