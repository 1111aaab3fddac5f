package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// ErrHoldConflict is returned by UpdateHold when the hold changed since it
// was read (another replica or a staff member acted on it first).
var ErrHoldConflict = errors.New("store: the hold was changed by someone else")

// HoldStore keeps parked requests (delay policies in hold form), so that a
// hold survives restarts and any replica can release it or answer its
// status URL. Concurrent replicas coordinate with UpdateHold's
// compare-and-set on Version: only one of them moves a hold on.
type HoldStore interface {
	// PutHold stores a new hold; it sets h.Version to 1.
	PutHold(ctx context.Context, h *Hold) error
	// Hold returns one hold, bodies included; ErrNotFound when unknown.
	Hold(ctx context.Context, id string) (Hold, error)
	// Holds lists holds matching q, oldest first, without their bodies
	// (Partial is set).
	Holds(ctx context.Context, q HoldQuery) ([]Hold, error)
	// UpdateHold stores h whole, bodies included, if the stored hold still
	// has h.Version, and advances h.Version; ErrHoldConflict otherwise,
	// ErrNotFound when there is none. A Partial hold is refused.
	UpdateHold(ctx context.Context, h *Hold) error
	// PruneHolds deletes the finished holds (fulfilled or expired)
	// created before before and returns how many; their records stay in
	// the journal.
	PruneHolds(ctx context.Context, before time.Time) (int64, error)
}

// HoldState is where a hold stands in its lifecycle.
type HoldState string

// The states of a hold.
const (
	// HoldHeld: parked until ReleaseAt, or until staff release it.
	HoldHeld HoldState = "held"
	// HoldReleased: released; the upstream answer is to be fetched.
	HoldReleased HoldState = "released"
	// HoldReady: the upstream answer is kept for the requester.
	HoldReady HoldState = "ready"
	// HoldFulfilled: the requester collected the answer (it is deleted).
	HoldFulfilled HoldState = "fulfilled"
	// HoldExpired: the hold ended uncollected (its answer, if any, and
	// its request are deleted).
	HoldExpired HoldState = "expired"
)

// Valid reports whether s is one of the states.
func (s HoldState) Valid() bool {
	switch s {
	case HoldHeld, HoldReleased, HoldReady, HoldFulfilled, HoldExpired:
		return true
	}
	return false
}

// Hold is a parked request.
type Hold struct {
	ID string `json:"id"`
	// RecordID is the decision that parked the request.
	RecordID string `json:"record_id"`
	// Owner is the requester's owner key (a hash of issuer, subject and
	// client; "" when anonymous): only the same requester may collect.
	Owner string `json:"owner,omitempty"`
	// Policy is the delay policy's id.
	Policy string    `json:"policy"`
	State  HoldState `json:"state"`
	// CreatedAt is when the request was parked.
	CreatedAt time.Time `json:"created_at"`
	// ReleaseAt is when it is released by itself; zero when only staff
	// release it.
	ReleaseAt time.Time `json:"release_at,omitzero"`
	// DueAt is when the hold next needs the releaser: its release time,
	// a fetch to retry, the expiry of an uncollected answer; zero when
	// nothing is due (waiting for staff, or finished).
	DueAt time.Time `json:"due_at,omitzero"`
	// ReleasedAt, ReleasedBy and ReleaseReason record the release.
	ReleasedAt    time.Time `json:"released_at,omitzero"`
	ReleasedBy    string    `json:"released_by,omitempty"`
	ReleaseReason string    `json:"release_reason,omitempty"`
	// ExpiresAt is when a released hold's answer stops being kept.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// FinishedAt is when the hold was fulfilled or expired.
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Attempts and LastError count failed fetches of the answer.
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// Decision is what the hold was decided under, told again to the
	// requester polling its status URL.
	Decision HoldDecision `json:"decision"`
	// Request is what to send upstream at release.
	Request HeldRequest `json:"request"`
	// Response is the upstream's answer, once fetched.
	Response *HeldResponse `json:"response,omitempty"`
	// Version counts the hold's updates (compare-and-set).
	Version int64 `json:"-"`
	// Partial marks a hold listed by Holds: its bodies were not read.
	Partial bool `json:"-"`
}

// HoldDecision is the part of a delay decision a hold keeps.
type HoldDecision struct {
	Policies  []decision.PolicyRef   `json:"policies,omitempty"`
	PolicySet string                 `json:"policy_set,omitempty"`
	Exception *decision.ExceptionRef `json:"exception,omitempty"`
	Notice    decision.Notice        `json:"notice"`
}

// HeldRequest is a parked request as it will be replayed upstream.
type HeldRequest struct {
	Method string `json:"method"`
	// Path is the path below the FHIR base (escaped), Query the raw query.
	Path   string      `json:"path"`
	Query  string      `json:"query,omitempty"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"-"`
}

// HeldResponse is the upstream's answer to a released hold.
type HeldResponse struct {
	Status    int         `json:"status"`
	Header    http.Header `json:"header,omitempty"`
	Body      []byte      `json:"-"`
	FetchedAt time.Time   `json:"fetched_at"`
}

// HoldQuery filters holds. Zero fields do not filter.
type HoldQuery struct {
	States []HoldState
	// DueBy selects holds due at or before it.
	DueBy time.Time
	// Limit bounds the list (default 100, at most 10,000).
	Limit int
}

// PageLimit returns the effective limit of q.
func (q HoldQuery) PageLimit() int {
	switch {
	case q.Limit <= 0:
		return 100
	case q.Limit > 10000:
		return 10000
	}
	return q.Limit
}

// HoldDoc encodes a hold for storage: everything but its bodies, which
// stores keep in columns of their own.
func HoldDoc(h *Hold) ([]byte, error) {
	if h.ID == "" || !h.State.Valid() {
		return nil, fmt.Errorf("store: hold %q in state %q", h.ID, h.State)
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("store: encode hold: %w", err)
	}
	return b, nil
}

// DecodeHold decodes a stored hold.
func DecodeHold(doc, reqBody, respBody []byte, version int64) (Hold, error) {
	var h Hold
	if err := json.Unmarshal(doc, &h); err != nil {
		return h, fmt.Errorf("store: decode hold: %w", err)
	}
	h.Request.Body = reqBody
	if h.Response != nil {
		h.Response.Body = respBody
	}
	h.Version = version
	return h, nil
}

// RespBody returns the response body to store (nil without a response).
func (h *Hold) RespBody() []byte {
	if h.Response == nil {
		return nil
	}
	return h.Response.Body
}
