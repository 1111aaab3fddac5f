// Package engine turns a classified request and its requester into a
// decision.Decision under a policy set: it finds the policies in play,
// ranks their actions by the project's one precedence rule (deny > delay >
// throttle > redact > allow), applies the review lifecycle (overdue
// policies flag every record they touch; lapsing ones stop enforcing) and,
// when redaction is in force, returns the per-resource Withhold function
// the response filter calls. It hands the gateway the parameters of every
// throttle in play (Limits) and of the deciding delay (Delay), and adds
// the patients' Consents in force (SwapConsents, decision/consent): a
// denial, or a per-resource redaction.
//
// Engine implements gateway.Decider. The policy set can be swapped while
// requests are being decided (hot reload); each decision uses one set
// throughout and records its hash.
package engine
