package decision

import (
	"encoding/json"
	"slices"
	"time"
)

// EntryKind says what a journal entry holds.
type EntryKind string

// The journal entry kinds. A request's record is its KindDecision entry plus
// the KindCompletion and KindTransition entries that follow it; nothing is
// rewritten in place.
const (
	// KindDecision holds a Record as decided, before the response starts.
	KindDecision EntryKind = "decision"
	// KindCompletion holds a Completion: how the response ended.
	KindCompletion EntryKind = "completion"
	// KindTransition holds a Transition of a held request or a notice item.
	KindTransition EntryKind = "transition"
	// KindAccess holds an Access: a look at the records by compliance staff.
	KindAccess EntryKind = "access"
	// KindPolicySet holds a PolicySet: a set of policies taking effect.
	KindPolicySet EntryKind = "policy-set"
)

// Entry is one link of a journal hash chain. Payload is the canonical JSON
// of the entry's content and is what the hash covers; stores keep it byte
// for byte.
type Entry struct {
	Chain    string    `json:"chain"`
	Seq      uint64    `json:"seq"`
	Kind     EntryKind `json:"kind"`
	RecordID string    `json:"record_id,omitempty"`
	At       time.Time `json:"at"`
	Payload  []byte    `json:"payload"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// Completion is how a request's response ended.
type Completion struct {
	ID                string         `json:"id"`
	FulfilledAt       time.Time      `json:"fulfilled_at"`
	Status            int            `json:"status"`
	UpstreamStatus    int            `json:"upstream_status,omitempty"`
	BytesOut          int64          `json:"bytes_out"`
	ResourcesReturned map[string]int `json:"resources_returned,omitempty"`
	// Patients are the patients whose resources the response carried.
	Patients []string   `json:"patients,omitempty"`
	Withheld []Withheld `json:"withheld,omitempty"`
	Flags    []Flag     `json:"flags,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	// Notice is a notice item opened when the response was completed (a
	// redaction whose exception requires a written response withheld
	// something).
	Notice *NoticeItem `json:"notice,omitempty"`
	// Error is set when the gateway or the upstream failed after the
	// decision was made; the record's action becomes Error.
	Error bool `json:"error,omitempty"`
	// Policies are found while the response streamed: the
	// upstream_refusals entry documenting a refusal the upstream made on
	// its own, the patients' Consents a redaction withheld by. They are
	// added to the record's policies.
	Policies []PolicyRef `json:"policies,omitempty"`
}

// Transition is a step in the life of a held request or a notice item:
// received, held, released, expired, fulfilled, notice-opened, notice-sent.
type Transition struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	State  string    `json:"state"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
	// Detail carries state-specific, PHI-free facts (e.g. the channel a
	// notice was sent by, or a release time).
	Detail map[string]string `json:"detail,omitempty"`
}

// Access is a look at the journal by compliance staff (API, console or CLI).
type Access struct {
	ID    string    `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Role  string    `json:"role,omitempty"`
	// What describes the query or action, e.g. "GET /api/records?action=deny".
	What   string `json:"what"`
	Status int    `json:"status,omitempty"`
	Count  int    `json:"count,omitempty"`
}

// PolicySet records a policy set taking effect.
type PolicySet struct {
	ID       string      `json:"id"`
	At       time.Time   `json:"at"`
	Hash     string      `json:"hash"`
	Policies []PolicyRef `json:"policies"`
	Source   string      `json:"source,omitempty"`
	// CatalogVersion is the version of the exception catalog the set was
	// validated against.
	CatalogVersion string `json:"catalog_version,omitempty"`
	// Texts are the canonical texts of the policies, so that the exact
	// text in force at any decision can be shown later. The pointer
	// entries recording which set is current carry none.
	Texts []PolicyText `json:"texts,omitempty"`
}

// PolicyText is the canonical text of one policy version.
type PolicyText struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	// Text is the canonical JSON the SHA-256 is computed over.
	Text json.RawMessage `json:"text"`
}

// Complete merges a completion into the record. Patients found in the
// response are added to those the request named; flags are unioned.
func (r *Record) Complete(c Completion) {
	t := c.FulfilledAt
	r.FulfilledAt = &t
	r.Status = c.Status
	r.UpstreamStatus = c.UpstreamStatus
	r.BytesOut = c.BytesOut
	r.ResourcesReturned = c.ResourcesReturned
	if len(c.Patients) > 0 {
		r.Patients = mergeSorted(r.Patients, c.Patients)
	}
	r.Withheld = append(r.Withheld, c.Withheld...)
	for _, f := range c.Flags {
		r.AddFlag(f)
	}
	if c.Reason != "" && r.Reason == "" {
		r.Reason = c.Reason
	}
	if c.Notice != nil && r.Notice == nil {
		r.Notice = c.Notice
	}
	if c.Error {
		r.Action = Error
	}
	for _, p := range c.Policies {
		if !r.hasPolicy(p) {
			// Clip: the slice may be shared with the decision's.
			r.Policies = append(slices.Clip(r.Policies), p)
		}
	}
}

// hasPolicy reports whether the record already names p (same id, version
// and Consent).
func (r *Record) hasPolicy(p PolicyRef) bool {
	for _, q := range r.Policies {
		if q.ID == p.ID && q.Version == p.Version && q.Consent == p.Consent {
			return true
		}
	}
	return false
}

func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.Sort(out)
	return slices.Compact(out)
}
