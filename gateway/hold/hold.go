package hold

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Errors matched with errors.Is.
var (
	// ErrNotOwner: the hold belongs to another requester.
	ErrNotOwner = errors.New("hold: the hold belongs to another requester")
	// ErrState: the hold is not in a state that allows the step.
	ErrState = errors.New("hold: not possible in the hold's state")
	// ErrTooLarge: the upstream answer is larger than the gateway keeps.
	ErrTooLarge = errors.New("hold: the upstream answer is too large to keep")
)

// Defaults.
const (
	// DefaultKeep is how long a released hold's answer waits to be
	// collected.
	DefaultKeep = 7 * 24 * time.Hour
	// DefaultInterval is how often the releaser looks for due holds.
	DefaultInterval = 15 * time.Second
	// DefaultMaxResponse bounds an upstream answer kept for collection.
	DefaultMaxResponse = 64 << 20
	// SystemActor names the gateway as the releaser of holds whose time
	// came.
	SystemActor = "ehigate"
	// ReasonTimeReached is the reason of a release at the hold's time.
	ReasonTimeReached = "release time reached"
)

// lease is how long a replica has to fetch a released hold's answer before
// another may try.
const lease = 2 * time.Minute

// Store is what holds need of the record store.
type Store interface {
	store.HoldStore
	Record(ctx context.Context, id string) (decision.Record, error)
}

// Journal is where transitions go (decision/journal.Writer implements it).
type Journal interface {
	Append(ctx context.Context, kind decision.EntryKind, recordID string, payload any, rec *decision.Record) (decision.Entry, error)
	Submit(kind decision.EntryKind, recordID string, payload any, rec *decision.Record) error
}

// Fetcher sends a released request upstream and reads the answer, at most
// max bytes of body (ErrTooLarge beyond).
type Fetcher interface {
	Fetch(ctx context.Context, req *store.HeldRequest, max int64) (*store.HeldResponse, error)
}

// Options configure a Manager.
type Options struct {
	Store   Store
	Journal Journal
	// Fetcher fetches released holds' answers; nil for a manager that only
	// releases (the command line): a gateway's releaser then fetches.
	Fetcher Fetcher
	// Clock defaults to time.Now.
	Clock func() time.Time
	// Keep is how long an answer waits to be collected (default 7 days).
	Keep time.Duration
	// Interval is the releaser's period (default 15s).
	Interval time.Duration
	// MaxResponse bounds a kept answer (default 64 MiB).
	MaxResponse int64
	// KeepFinished is how long finished holds (fulfilled or expired) stay
	// in the store, from their creation; Run prunes older ones hourly.
	// Zero keeps them.
	KeepFinished time.Duration
	Logger       *slog.Logger
}

// Manager runs holds. It is safe for concurrent use.
type Manager struct {
	opts Options
}

// New returns a Manager.
func New(opts Options) *Manager {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.MaxResponse <= 0 {
		opts.MaxResponse = DefaultMaxResponse
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{opts: opts}
}

func (m *Manager) now() time.Time { return m.opts.Clock().UTC().Truncate(time.Microsecond) }

// Park stores h as a new hold and journals its "held" transition with rec,
// the record as decided (which must already name the hold in rec.Hold).
func (m *Manager) Park(ctx context.Context, h *store.Hold, rec *decision.Record) error {
	h.State = store.HoldHeld
	h.DueAt = h.ReleaseAt
	if err := m.opts.Store.PutHold(ctx, h); err != nil {
		return fmt.Errorf("hold: park: %w", err)
	}
	tr := decision.Transition{ID: h.RecordID, At: m.now(), State: string(decision.HoldHeld), Detail: detail(h)}
	snap := *rec
	if err := Apply(&snap, tr); err != nil {
		return err
	}
	if err := m.opts.Journal.Submit(decision.KindTransition, h.RecordID, tr, &snap); err != nil {
		return fmt.Errorf("hold: park: %w", err)
	}
	return nil
}

func detail(h *store.Hold) map[string]string {
	d := map[string]string{"hold": h.ID, "policy": h.Policy}
	if h.ReleaseAt.IsZero() {
		d["release"] = "staff"
	} else {
		d["release_at"] = h.ReleaseAt.UTC().Format(time.RFC3339)
	}
	return d
}

// Get returns the hold id for the requester whose owner key is owner.
func (m *Manager) Get(ctx context.Context, id, owner string) (store.Hold, error) {
	h, err := m.opts.Store.Hold(ctx, id)
	if err != nil {
		return h, err
	}
	if h.Owner != owner {
		return store.Hold{}, fmt.Errorf("%w: %s", ErrNotOwner, id)
	}
	return h, nil
}

// Release releases a held request on behalf of staff member by, for
// reason; the answer is fetched by the next releaser pass of a gateway.
func (m *Manager) Release(ctx context.Context, id, by, reason string) (store.Hold, error) {
	if by == "" || reason == "" {
		return store.Hold{}, errors.New("hold: a release needs who releases it and why")
	}
	h, err := m.opts.Store.Hold(ctx, id)
	if err != nil {
		return h, err
	}
	if h.State != store.HoldHeld {
		return h, fmt.Errorf("%w: hold %s is %s", ErrState, id, h.State)
	}
	if err := m.release(ctx, &h, by, reason); err != nil {
		return h, err
	}
	return h, nil
}

// release moves a held hold to released and journals it.
func (m *Manager) release(ctx context.Context, h *store.Hold, by, reason string) error {
	rec, err := m.record(ctx, h)
	if err != nil {
		return err
	}
	now := m.now()
	h.State, h.ReleasedAt, h.ReleasedBy, h.ReleaseReason = store.HoldReleased, now, by, reason
	h.ExpiresAt, h.DueAt = now.Add(m.opts.Keep), now
	if err := m.opts.Store.UpdateHold(ctx, h); err != nil {
		return fmt.Errorf("hold: release: %w", err)
	}
	tr := decision.Transition{ID: h.RecordID, At: now, State: string(decision.HoldReleased), By: by, Reason: reason,
		Detail: map[string]string{"hold": h.ID}}
	return m.journal(ctx, rec, tr)
}

// record reads the record a hold belongs to, as it stands. A record whose
// completion is not in the store yet is not touched (ErrUnsettled): a
// transition then would be overwritten by the completed projection.
func (m *Manager) record(ctx context.Context, h *store.Hold) (decision.Record, error) {
	rec, err := m.opts.Store.Record(ctx, h.RecordID)
	if err != nil {
		return rec, fmt.Errorf("hold: record of %s: %w", h.ID, err)
	}
	if rec.FulfilledAt == nil {
		return rec, fmt.Errorf("%w: record %s", ErrUnsettled, h.RecordID)
	}
	rec.Entries = nil
	// The store keeps the spooled mark beside the document, not in it.
	rec.Flags = slices.DeleteFunc(slices.Clone(rec.Flags), func(f decision.Flag) bool { return f == decision.FlagSpooled })
	return rec, nil
}

// ErrUnsettled: the held request's record is not complete in the store
// yet (its completion is still being written); retry in a moment.
var ErrUnsettled = errors.New("hold: the record of the held request is not complete yet")

func (m *Manager) journal(ctx context.Context, rec decision.Record, tr decision.Transition) error {
	if err := Apply(&rec, tr); err != nil {
		return err
	}
	if _, err := m.opts.Journal.Append(ctx, decision.KindTransition, tr.ID, tr, &rec); err != nil {
		return fmt.Errorf("hold: journal %s: %w", tr.State, err)
	}
	return nil
}

// Collected marks a ready hold collected by its requester (the upstream
// answer, with upstream status status, was sent): its answer is dropped
// and the "fulfilled" transition journaled.
func (m *Manager) Collected(ctx context.Context, h *store.Hold) error {
	if h.State != store.HoldReady || h.Response == nil {
		return fmt.Errorf("%w: hold %s is %s", ErrState, h.ID, h.State)
	}
	rec, err := m.record(ctx, h)
	if err != nil {
		return err
	}
	status := h.Response.Status
	now := m.now()
	h.State, h.FinishedAt, h.DueAt, h.Response = store.HoldFulfilled, now, time.Time{}, nil
	h.Request.Body, h.Request.Header = nil, nil
	if err := m.opts.Store.UpdateHold(ctx, h); err != nil {
		return fmt.Errorf("hold: collected: %w", err)
	}
	tr := decision.Transition{ID: h.RecordID, At: now, State: string(decision.HoldFulfilled),
		Detail: map[string]string{"hold": h.ID, "upstream_status": fmt.Sprint(status)}}
	return m.journal(ctx, rec, tr)
}

// expire ends a hold uncollected.
func (m *Manager) expire(ctx context.Context, h *store.Hold, reason string) error {
	rec, err := m.record(ctx, h)
	if err != nil {
		return err
	}
	now := m.now()
	h.State, h.FinishedAt, h.DueAt = store.HoldExpired, now, time.Time{}
	h.Response, h.Request.Body, h.Request.Header = nil, nil, nil
	if err := m.opts.Store.UpdateHold(ctx, h); err != nil {
		return fmt.Errorf("hold: expire: %w", err)
	}
	tr := decision.Transition{ID: h.RecordID, At: now, State: string(decision.HoldExpired), Reason: reason,
		Detail: map[string]string{"hold": h.ID}}
	return m.journal(ctx, rec, tr)
}
