// Package decision holds the project's own small types for access decisions:
// the Requester who asks, the Action taken, the Decision that explains it, and
// the Record that the journal keeps for every request.
//
// The engine that computes decisions lives in decision/engine, the policy file
// format in decision/policy, the hash-chained journal in decision/journal and
// its storage back ends in decision/store.
package decision
