package hold

import (
	"fmt"

	"github.com/ehigate/ehigate/decision"
)

// Apply replays a hold transition on the record it belongs to, as the
// journaled record projection shows it: rec.Hold's state and, for a
// release, when, by whom and why. Transitions of other kinds (a notice
// sent) are not applied and return nil.
func Apply(rec *decision.Record, tr decision.Transition) error {
	s := decision.HoldState(tr.State)
	switch s {
	case decision.HoldHeld, decision.HoldReleased, decision.HoldFulfilled, decision.HoldExpired:
	default:
		return nil
	}
	if rec.Hold == nil {
		return fmt.Errorf("hold: a %s transition for a record without a hold", tr.State)
	}
	h := *rec.Hold
	at := tr.At.UTC()
	h.State = s
	switch s {
	case decision.HoldReleased:
		h.ReleasedAt, h.ReleasedBy, h.ReleaseReason = &at, tr.By, tr.Reason
	case decision.HoldFulfilled:
		h.CollectedAt = &at
	case decision.HoldExpired:
		h.ExpiredAt = &at
	}
	rec.Hold = &h
	return nil
}

// IsTransition reports whether tr is a hold transition.
func IsTransition(tr decision.Transition) bool {
	switch decision.HoldState(tr.State) {
	case decision.HoldHeld, decision.HoldReleased, decision.HoldFulfilled, decision.HoldExpired:
		return true
	}
	return false
}
