package decision

import (
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
