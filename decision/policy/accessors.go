package policy

import (
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/fhir"
)

// Entry returns the catalog entry of the exception the policy cites, or
// nil (allow policies may cite none).
func (p *Policy) Entry() *exceptions.Entry { return p.entry }

// SHA256 returns the hex SHA-256 of the policy's canonical text.
func (p *Policy) SHA256() string { return p.sha }

// Canonical returns the policy's canonical text. It must not be modified.
func (p *Policy) Canonical() []byte { return p.canonical }

// Ref returns the record's reference to this policy version.
func (p *Policy) Ref() decision.PolicyRef {
	ref := decision.PolicyRef{ID: p.ID, Version: p.Version, SHA256: p.sha, Action: p.Action}
	if p.entry != nil {
		ref.Exception = p.entry.Code
	}
	return ref
}

// Restricts reports whether the policy restricts access.
func (p *Policy) Restricts() bool { return p.Action.Restricts() }

// PerResource reports whether the policy's resource criteria (resource
// types, data classes, patients, security labels, resource_when) apply to
// each resource of a response rather than to the request: true for redact
// and for delay embargoes.
func (p *Policy) PerResource() bool {
	return p.Action == decision.Redact || (p.Action == decision.Delay && p.Delay != nil && p.Delay.Form == "embargo")
}

// When returns the compiled request condition, or nil.
func (p *Policy) When() *Condition { return p.when }

// ResourceWhen returns the compiled per-resource condition, or nil.
func (p *Policy) ResourceWhen() *Condition { return p.resWhen }

// Labels returns the security labels to match, with privacy-law codes
// under both of their systems. It must not be modified.
func (p *Policy) Labels() map[fhir.Coding]struct{} { return p.labels }

// InWindow reports whether t is inside the policy's time window (always,
// when it has none).
func (p *Policy) InWindow(t time.Time) bool { return p.window.contains(t) }

// ReviewOverdue reports whether the policy's review_by date has passed at
// t (it is overdue from the start of that day, UTC, for a date).
func (p *Policy) ReviewOverdue(t time.Time) bool {
	rb := p.Documentation.ReviewBy
	return !rb.IsZero() && !t.Before(rb)
}

// Lapses reports whether the policy stops enforcing once overdue.
func (p *Policy) Lapses() bool { return p.OnReviewOverdue == "lapse" }

// LatestReview returns the latest of decided_at and the reviews' dates.
func (p *Policy) LatestReview() time.Time { return p.lastRev }

// Disclose reports whether withholding by the policy is disclosed.
func (p *Policy) Disclose() bool { return p.DiscloseWithholding == nil || *p.DiscloseWithholding }

// NoticeStatus returns the HTTP status of a notice (403 unless 404 is
// documented).
func (p *Policy) NoticeStatus() int {
	if p.Notice.Status == 0 {
		return 403
	}
	return p.Notice.Status
}

// DecisionNotice returns what the requester is told.
func (p *Policy) DecisionNotice() decision.Notice {
	return decision.Notice{
		Message: p.Notice.Message, NextStep: p.Notice.NextStep, Contact: p.Notice.Contact,
		AlternativeManner: p.Notice.AlternativeManner, Status: p.NoticeStatus(),
	}
}

// ThrottleSpec returns the throttle parameters, or nil.
func (p *Policy) ThrottleSpec() *decision.ThrottleSpec {
	if p.Throttle == nil {
		return nil
	}
	s := &decision.ThrottleSpec{Policy: p.ID, Key: p.Throttle.Key, Rate: p.rate, Burst: p.Throttle.Burst, OnStoreFailure: decision.Allow}
	if s.Burst == 0 {
		s.Burst = 1
	}
	if p.Throttle.OnStoreFailure == "deny" {
		s.OnStoreFailure = decision.Deny
	}
	return s
}

// DelaySpec returns the delay parameters without the embargo function,
// or nil.
func (p *Policy) DelaySpec() *decision.DelaySpec {
	if p.Delay == nil {
		return nil
	}
	return &decision.DelaySpec{
		Policy: p.ID, Form: p.Delay.Form, ReleaseAfter: time.Duration(p.Delay.ReleaseAfter),
		DateElement: p.Delay.From, HoldFor: time.Duration(p.Delay.HoldFor), StaffRelease: p.Delay.Release == "staff",
	}
}
