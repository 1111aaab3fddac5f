package decision

import (
	"strings"
	"time"

	"github.com/ehigate/ehigate/fhir"
)

// Decision is what the engine decided for one request, with everything
// needed to enforce it, tell the requester and record it.
type Decision struct {
	// Action is the strongest action of the matched policies.
	Action Action
	// Policies are every policy that matched, enforcing or not.
	Policies []PolicyRef
	// PolicySet is the hash of the whole policy set in force.
	PolicySet string
	// Exception is the exception the deciding policy cites.
	Exception *ExceptionRef
	// Notice is what the requester is told for a deny, delay or throttle,
	// and in the disclosure entry of a redaction.
	Notice Notice
	// Flags are added to the record (e.g. review-overdue).
	Flags []Flag
	// Reason is a short reason code for the record.
	Reason string
	// RetryAfter is told to a throttled or delayed requester.
	RetryAfter time.Duration
	// Throttle and Hold describe those actions.
	Throttle *ThrottleRef
	Hold     *HoldRef
	// Withhold, when not nil, is asked about every resource in the response;
	// it returns whether to withhold the resource and the deciding policy.
	Withhold func(r *fhir.Resource) (withhold bool, policy string)
	// Disclose says whether withholding is disclosed to the requester (an
	// OperationOutcome entry in Bundles). It is true unless a policy
	// documents why disclosure would itself reveal the sensitive fact.
	Disclose bool
	// Redactions describe the policies a Withhold func may name, one per
	// enforcing redact policy: what to tell the requester about what each
	// withholds, and whether to disclose it.
	Redactions []Redaction
	// Duty is the written response the deciding exception requires of the
	// actor (e.g. reasons within 10 business days for infeasibility). The
	// gateway opens it as a notice item on the record when the restriction
	// is carried out.
	Duty *NoticeItem
	// Limit holds the deciding throttle policy's parameters, for the
	// throttle enforcer.
	Limit *ThrottleSpec
	// Limits are the parameters of every enforcing throttle policy in
	// play, whatever the deciding action (Limit among them): a request
	// that goes upstream counts against each. They are shared and must
	// not be modified.
	Limits []*ThrottleSpec
	// Delay holds the deciding delay policy's parameters, for the hold and
	// embargo enforcer.
	Delay *DelaySpec
	// Resolve, when set, returns the reference of a Withhold tag that is
	// not among Policies: a patient's Consent found to apply while the
	// response streams. The gateway adds it to the record's policies.
	Resolve func(tag string) (PolicyRef, bool)
}

// Redaction is what one enforcing redact policy means for a response.
type Redaction struct {
	// Policy is the policy id, as returned by Decision.Withhold.
	Policy string
	// Exception is the exception the policy cites.
	Exception *ExceptionRef
	// Notice is what the requester is told: in the disclosure entry of a
	// Bundle, or as the answer to a read of a resource it withholds.
	Notice Notice
	// Disclose is false when the policy documents why disclosing the
	// withholding would itself reveal the sensitive fact.
	Disclose bool
	// Duty is the written response the policy's exception requires when
	// it withholds something.
	Duty *NoticeItem
	// Prefix makes Policy a prefix: the redaction covers every tag that
	// starts with it (e.g. "Consent/" for the patients' Consents).
	Prefix bool
	// Embargo marks a delay policy's embargo: what it withholds is
	// released at a time of its own (told in the disclosure entry).
	Embargo bool
}

// RedactionOf returns the Redaction of policy id (or the one whose prefix
// covers it), or nil.
func (d *Decision) RedactionOf(id string) *Redaction {
	for i := range d.Redactions {
		if d.Redactions[i].Policy == id {
			return &d.Redactions[i]
		}
	}
	for i := range d.Redactions {
		if r := &d.Redactions[i]; r.Prefix && len(id) > len(r.Policy) && strings.HasPrefix(id, r.Policy) {
			return r
		}
	}
	return nil
}

// ThrottleSpec is a throttle policy's limit, as its policy file states it.
type ThrottleSpec struct {
	// Policy is the policy id.
	Policy string
	// Key is what requests are counted by: subject, client_id, class,
	// patient or global.
	Key string
	// Rate is the sustained rate, in requests per second.
	Rate float64
	// Burst is how many requests may exceed the rate at once.
	Burst int
	// OnStoreFailure is Allow or Deny: what to do when the shared limiter
	// store cannot be reached.
	OnStoreFailure Action
	// Exception and Notice are the policy's, for the answer to a request
	// over the limit.
	Exception *ExceptionRef
	Notice    Notice
}

// DelaySpec is a delay policy's parameters, as its policy file states them.
type DelaySpec struct {
	// Policy is the policy id.
	Policy string
	// Form is "embargo" (resources are held back until a time after one
	// of their dates) or "hold" (the request is parked).
	Form string
	// ReleaseAfter and DateElement define an embargo: a resource is held
	// until ReleaseAfter past its DateElement (e.g. "issued").
	ReleaseAfter time.Duration
	DateElement  string
	// HoldFor is how long a held request is parked; zero with
	// StaffRelease set means until staff release it.
	HoldFor      time.Duration
	StaffRelease bool
	// Embargoed, set for embargoes, reports whether a resource matches the
	// policy's per-resource criteria and until when it is held back.
	Embargoed func(r *fhir.Resource, now time.Time) (until time.Time, held bool)
	// Exception and Notice are the policy's.
	Exception *ExceptionRef
	Notice    Notice
}

// Notice is the plain-language part of what a requester is told.
type Notice struct {
	// Message says what happened and why, in plain language.
	Message string
	// NextStep says what the requester can do next.
	NextStep string
	// Contact is who to contact (an address, phone or URL).
	Contact string
	// AlternativeManner describes another way to get the information.
	AlternativeManner string
	// Status is the HTTP status to answer a deny with (403 by default; 404
	// when a policy documents that existence must not be revealed).
	Status int
}
