// Package policy reads, validates and fingerprints policy files: the
// documented restrictions the gateway enforces. Each policy names what it
// matches, the action it takes, the 45 CFR Part 171 exception it relies on
// (from the catalog in decision/exceptions) and the documentation a claim
// of that exception requires. A restricting policy missing any of it does
// not load: Load reports every problem at once, each as
// "file:line: key.path: message".
//
// A loaded Set is immutable. Each policy has a canonical text (its
// normalized decoded form as JSON with keys sorted by code point, no
// insignificant whitespace, empty values omitted, set-valued match lists
// sorted and de-duplicated, times in RFC 3339 UTC, durations in Go's
// notation) and the SHA-256 of that text; the set's hash covers the sorted
// (id, version, sha256) list and the catalog version. Conditions written in
// CEL are compiled when the set loads.
//
// The review rules live here too: a policy is overdue once its review_by
// date has passed, review_by may not lie further than the maximum review
// interval past the latest review, and moving review_by later than the
// previously loaded version of the same policy needs a new review entry.
package policy
