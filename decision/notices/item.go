package notices

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
)

// Transition states appended to the journal for notice items.
const (
	// StateSent marks a notice item sent.
	StateSent = "notice-sent"
)

// Channels are the ways a written response may be sent.
var Channels = []string{"mail", "email", "portal", "phone", "fhir"}

// Errors matched with errors.Is.
var (
	// ErrNoNotice: the record has no notice item.
	ErrNoNotice = errors.New("notices: the record has no notice item")
	// ErrAlreadySent: the notice item was already marked sent.
	ErrAlreadySent = errors.New("notices: the notice was already marked sent")
	// ErrChannel: the channel is not one of Channels.
	ErrChannel = errors.New("notices: unknown channel")
)

// Open returns the notice item a decision relying on entry opens for a
// request received at received, or nil when the entry's notice duty has
// no deadline.
func Open(e *exceptions.Entry, received time.Time, cal *Calendar) *decision.NoticeItem {
	n := e.Duty()
	if n == nil || n.Deadline == nil {
		return nil
	}
	return &decision.NoticeItem{
		Exception: e.Code,
		CFR:       n.CFR,
		Duty:      n.Duty,
		Basis:     basisText(*n.Deadline),
		DueAt:     cal.Due(received, *n.Deadline).UTC(),
	}
}

func basisText(d exceptions.Deadline) string {
	if d.Basis == exceptions.BusinessDays {
		return d.String() + " from receipt (US federal holidays excluded)"
	}
	return d.String() + " from receipt"
}

// Status is where a notice item stands at a given time.
type Status uint8

// The statuses.
const (
	// Pending: open, due later than the horizon asked about.
	Pending Status = iota
	// Due: open and due within the horizon.
	Due
	// Overdue: open and past its due time.
	Overdue
	// Sent: marked sent.
	Sent
)

func (s Status) String() string {
	return [...]string{"pending", "due", "overdue", "sent"}[s]
}

// StatusOf classifies n at now: items due within horizon are Due.
func StatusOf(n *decision.NoticeItem, now time.Time, horizon time.Duration) Status {
	switch {
	case n.SentAt != nil:
		return Sent
	case !now.Before(n.DueAt):
		return Overdue
	case n.DueAt.Sub(now) <= horizon:
		return Due
	}
	return Pending
}

// MarkSent returns rec updated with its notice item marked sent (the record
// projection to store) and the transition to append to the journal.
func MarkSent(rec decision.Record, at time.Time, by, channel string) (decision.Record, decision.Transition, error) {
	if rec.Notice == nil {
		return rec, decision.Transition{}, fmt.Errorf("%w: %s", ErrNoNotice, rec.ID)
	}
	if rec.Notice.SentAt != nil {
		return rec, decision.Transition{}, fmt.Errorf("%w: %s at %s", ErrAlreadySent, rec.ID, rec.Notice.SentAt.Format(time.RFC3339))
	}
	if !slices.Contains(Channels, channel) {
		return rec, decision.Transition{}, fmt.Errorf("%w %q (want one of %v)", ErrChannel, channel, Channels)
	}
	if by == "" {
		return rec, decision.Transition{}, errors.New("notices: who sent the notice is required")
	}
	at = at.UTC()
	tr := decision.Transition{
		ID: rec.ID, At: at, State: StateSent, By: by,
		Detail: map[string]string{"channel": channel, "exception": rec.Notice.Exception, "due_at": rec.Notice.DueAt.Format(time.RFC3339)},
	}
	if at.After(rec.Notice.DueAt) {
		tr.Reason = "sent after the deadline"
	}
	rec.Flags = slices.Clone(rec.Flags)
	rec.Entries = nil
	if err := Apply(&rec, tr); err != nil {
		return rec, decision.Transition{}, err
	}
	return rec, tr, nil
}

// Apply applies a notice transition to a record as MarkSent does, so that
// a record can be recomputed from its journal entries (verify); other
// transitions leave the record as it is.
func Apply(rec *decision.Record, tr decision.Transition) error {
	if tr.State != StateSent {
		return nil
	}
	if rec.Notice == nil {
		return fmt.Errorf("%w: a %s transition for record %s", ErrNoNotice, tr.State, rec.ID)
	}
	n := *rec.Notice
	at := tr.At.UTC()
	n.SentAt, n.SentBy, n.Channel = &at, tr.By, tr.Detail["channel"]
	rec.Notice = &n
	rec.AddFlag(decision.FlagNoticeSent)
	return nil
}
