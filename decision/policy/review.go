package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
)

// CheckHistory compares the set with the set that was last in force (the
// texts of its policy-set journal entry). For each policy id in both:
//   - a version loaded before must keep its text (a changed text needs a
//     new version), and
//   - review_by may move later only with a review entry newer than any
//     the previous version had, so that a restriction cannot quietly
//     become permanent.
//
// The error, if any, is a yamlx.Problems naming each policy's file:line.
func (s *Set) CheckHistory(prev []decision.PolicyText) error {
	var ps yamlx.Problems
	for _, t := range prev {
		p := s.byID[t.ID]
		if p == nil {
			continue
		}
		if t.Version == p.Version && t.SHA256 != p.sha {
			p.problem(&ps, "version", "version %s of %s was in force with a different text (sha256 %.12s…): give the changed policy a new version", p.Version, p.ID, t.SHA256)
			continue
		}
		var old Policy
		if err := json.Unmarshal(t.Text, &old); err != nil {
			p.problem(&ps, "", "the previous text of %s in the journal does not decode: %v", p.ID, err)
			continue
		}
		oldLast := old.Documentation.DecidedAt
		for _, r := range old.Reviews {
			if r.At.After(oldLast) {
				oldLast = r.At
			}
		}
		newRB, oldRB := p.Documentation.ReviewBy, old.Documentation.ReviewBy
		if !oldRB.IsZero() && newRB.After(oldRB) && !p.lastRev.After(oldLast) {
			p.problem(&ps, "documentation.review_by", "moved from %s (version %s) to %s without a new review: add an entry to reviews documenting the review",
				oldRB.Format("2006-01-02"), old.Version, newRB.Format("2006-01-02"))
		}
	}
	return ps.Err()
}

// ReviewItem is a policy whose review is due or overdue.
type ReviewItem struct {
	Policy   *Policy
	ReviewBy time.Time
	Overdue  bool
	// Lapsed is set for an overdue policy that stops enforcing.
	Lapsed bool
}

// Reviews returns the policies whose review_by has passed at now or falls
// within the next within, soonest first.
func (s *Set) Reviews(now time.Time, within time.Duration) []ReviewItem {
	var out []ReviewItem
	for _, p := range s.policies {
		rb := p.Documentation.ReviewBy
		if rb.IsZero() || rb.Sub(now) > within {
			continue
		}
		over := p.ReviewOverdue(now)
		out = append(out, ReviewItem{Policy: p, ReviewBy: rb, Overdue: over, Lapsed: over && p.Lapses()})
	}
	slices.SortStableFunc(out, func(a, b ReviewItem) int { return a.ReviewBy.Compare(b.ReviewBy) })
	return out
}

// String renders a review item for listings.
func (r ReviewItem) String() string {
	state := "due"
	switch {
	case r.Lapsed:
		state = "overdue, lapsed (not enforced)"
	case r.Overdue:
		state = "overdue"
	}
	return fmt.Sprintf("%s@%s review by %s: %s", r.Policy.ID, r.Policy.Version, r.ReviewBy.Format("2006-01-02"), state)
}
