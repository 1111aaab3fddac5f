package decision

import "time"

// SchemaV1 is the schema version of Record. Its JSON field names are a public
// contract documented in decision/RECORD.md; changing one is a schema change.
const SchemaV1 = "v1"

// Flag marks something an auditor should notice about a record.
type Flag string

// Flags set by the gateway.
const (
	// FlagReviewOverdue: a policy that touched the request is past its review date.
	FlagReviewOverdue Flag = "review-overdue"
	// FlagPolicyLapsed: a policy matched but had lapsed for an overdue review.
	FlagPolicyLapsed Flag = "policy-lapsed"
	// FlagUpstreamRestriction: the upstream refused or withheld on its own.
	FlagUpstreamRestriction Flag = "upstream-restriction"
	// FlagUndocumented: a restriction no policy or upstream_refusals entry documents.
	FlagUndocumented Flag = "undocumented"
	// FlagIdentityUnverified: identity was read from a token the gateway did not verify.
	FlagIdentityUnverified Flag = "identity-unverified"
	// FlagClientDisconnected: the client went away before the response ended.
	FlagClientDisconnected Flag = "client-disconnected"
	// FlagUpstreamError: the upstream failed, timed out or sent an invalid response.
	FlagUpstreamError Flag = "upstream-error"
	// FlagThrottleStoreFailure: the shared throttle store was unreachable.
	FlagThrottleStoreFailure Flag = "throttle-store-failure"
	// FlagBodyNotInspected: the request body was too large to inspect.
	FlagBodyNotInspected Flag = "body-not-inspected"
	// FlagResponseNotInspected: the response could not be scanned (format or size).
	FlagResponseNotInspected Flag = "response-not-inspected"
	// FlagSpooled: the record was written to the local spool while the store was down.
	FlagSpooled Flag = "spooled"
	// FlagNoticeRequired: the exception relied on requires a written
	// response to the requester; the record's notice item tracks it.
	FlagNoticeRequired Flag = "notice-required"
	// FlagNoticeSent: the written response was marked sent.
	FlagNoticeSent Flag = "notice-sent"
	// FlagResponseNotFiltered: redaction was in force but the response
	// could not be filtered, so it was refused or cut off.
	FlagResponseNotFiltered Flag = "response-not-filtered"
)

// Record is the decision record kept for every request, allowed or not.
// Fields set when the decision is made are committed before the response
// starts; completion fields (FulfilledAt onward) are added when it ends.
type Record struct {
	ID          string     `json:"id"`
	Schema      string     `json:"schema"`
	ReceivedAt  time.Time  `json:"received_at"`
	DecidedAt   time.Time  `json:"decided_at"`
	FulfilledAt *time.Time `json:"fulfilled_at,omitempty"`

	Action       Action   `json:"action"`
	Interaction  string   `json:"interaction"`
	Method       string   `json:"method"`
	Path         string   `json:"path"`
	ResourceType string   `json:"resource_type,omitempty"`
	ResourceID   string   `json:"resource_id,omitempty"`
	Operation    string   `json:"operation,omitempty"`
	Patients     []string `json:"patients,omitempty"`
	DataClasses  []string `json:"data_classes,omitempty"`

	Requester Requester `json:"requester"`

	Status            int            `json:"status,omitempty"`
	UpstreamStatus    int            `json:"upstream_status,omitempty"`
	BytesOut          int64          `json:"bytes_out"`
	ResourcesReturned map[string]int `json:"resources_returned,omitempty"`

	Policies  []PolicyRef   `json:"policies,omitempty"`
	PolicySet string        `json:"policy_set,omitempty"`
	Exception *ExceptionRef `json:"exception,omitempty"`
	Withheld  []Withheld    `json:"withheld,omitempty"`
	Flags     []Flag        `json:"flags,omitempty"`

	// Reason is a short, PHI-free explanation for deny, error and other
	// non-allow outcomes (a reason code such as "upstream-timeout").
	Reason string `json:"reason,omitempty"`
	// RetryAfter is the delay told to the requester, in seconds.
	RetryAfter int `json:"retry_after,omitempty"`
	// Throttle describes the limit applied by a throttle decision.
	Throttle *ThrottleRef `json:"throttle,omitempty"`
	// Hold describes a parked request (delay action, hold form).
	Hold *HoldRef `json:"hold,omitempty"`
	// Notice is the written response the exception relied on requires of
	// the actor, when it requires one (flag notice-required).
	Notice *NoticeItem `json:"notice,omitempty"`

	TraceID string `json:"trace_id,omitempty"`

	// Entries lists the journal entries this record is made of, in order; the
	// store fills it when records are read back. It is not part of any entry.
	Entries []EntryRef `json:"entries,omitempty"`
}

// PolicyRef identifies the exact policy text that applied.
type PolicyRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	// Action is what this policy asked for (the record's Action is the
	// strongest of them).
	Action Action `json:"action"`
	// Exception is the exception code the policy cites.
	Exception string `json:"exception,omitempty"`
	// ReviewOverdue is set when the policy was past its review date.
	ReviewOverdue bool `json:"review_overdue,omitempty"`
	// Lapsed is set when the policy matched but did not enforce because its
	// review was overdue and it is configured to lapse.
	Lapsed bool `json:"lapsed,omitempty"`
	// Consent names a FHIR Consent (type/id/_history/version) when the policy
	// was derived from a patient's Consent resource.
	Consent string `json:"consent,omitempty"`
}

// ExceptionRef names the 45 CFR Part 171 exception (or non-exception code)
// a restriction relies on.
type ExceptionRef struct {
	Code string `json:"code"`
	CFR  string `json:"cfr,omitempty"`
	// CatalogVersion is the version of the exception catalog in force.
	CatalogVersion string `json:"catalog_version,omitempty"`
}

// Withheld says what was withheld, never its content.
type Withheld struct {
	Type      string     `json:"type"`
	ID        string     `json:"id,omitempty"`
	Count     int        `json:"count"`
	Policy    string     `json:"policy,omitempty"`
	ReleaseAt *time.Time `json:"release_at,omitempty"`
}

// ThrottleRef records the limit a throttle decision applied.
type ThrottleRef struct {
	Policy string `json:"policy"`
	// Key is the throttle key; identities in it are hashed.
	Key   string  `json:"key"`
	Rate  float64 `json:"rate_per_second"`
	Burst int     `json:"burst"`
}

// HoldRef records a parked request (delay action, hold form) and, as
// its transitions are journaled, where it stands.
type HoldRef struct {
	// ID names the hold; the status URL ends with it.
	ID string `json:"id,omitempty"`
	// ReleaseAt is when the hold is released by itself; absent when only
	// staff release it.
	ReleaseAt *time.Time `json:"release_at,omitempty"`
	StatusURL string     `json:"status_url,omitempty"`
	// State is held, released, fulfilled or expired (the last transition).
	State HoldState `json:"state,omitempty"`
	// ReleasedAt, ReleasedBy and ReleaseReason say when, by whom and why
	// the hold was released ("ehigate" and "release time reached" when
	// its time came).
	ReleasedAt    *time.Time `json:"released_at,omitempty"`
	ReleasedBy    string     `json:"released_by,omitempty"`
	ReleaseReason string     `json:"release_reason,omitempty"`
	// CollectedAt is when the requester collected the upstream answer.
	CollectedAt *time.Time `json:"collected_at,omitempty"`
	// ExpiredAt is when the hold expired uncollected.
	ExpiredAt *time.Time `json:"expired_at,omitempty"`
}

// HoldState is where a held request stands in its record; each change is
// a KindTransition entry whose State is the new state.
type HoldState string

// The states of a held request, in the order they are reached.
const (
	// HoldHeld: parked until its release time or until staff release it.
	HoldHeld HoldState = "held"
	// HoldReleased: released; the upstream answer is fetched and kept for
	// the requester.
	HoldReleased HoldState = "released"
	// HoldFulfilled: the requester collected the upstream answer.
	HoldFulfilled HoldState = "fulfilled"
	// HoldExpired: the hold ended without the answer being collected.
	HoldExpired HoldState = "expired"
)

// NoticeItem is a written response the actor owes the requester because
// of the exception a restriction relies on (e.g. the reasons a request is
// infeasible, within 10 business days of receipt, 45 CFR 171.204(b)).
type NoticeItem struct {
	// Exception and CFR name the exception and the paragraph of the duty.
	Exception string `json:"exception"`
	CFR       string `json:"cfr,omitempty"`
	// Duty says what must be sent, in plain language.
	Duty string `json:"duty,omitempty"`
	// Basis says how DueAt was computed, e.g. "10 business days".
	Basis string `json:"basis,omitempty"`
	// DueAt is the moment the deadline passes.
	DueAt time.Time `json:"due_at"`
	// SentAt, SentBy and Channel are set when the response is marked sent.
	SentAt  *time.Time `json:"sent_at,omitempty"`
	SentBy  string     `json:"sent_by,omitempty"`
	Channel string     `json:"channel,omitempty"`
}

// EntryRef points at one journal entry of a record.
type EntryRef struct {
	Kind  EntryKind `json:"kind"`
	Chain string    `json:"chain"`
	Seq   uint64    `json:"seq"`
	At    time.Time `json:"at"`
}

// HasFlag reports whether the record carries flag f.
func (r *Record) HasFlag(f Flag) bool {
	for _, g := range r.Flags {
		if g == f {
			return true
		}
	}
	return false
}

// AddFlag adds f once.
func (r *Record) AddFlag(f Flag) {
	if !r.HasFlag(f) {
		r.Flags = append(r.Flags, f)
	}
}
