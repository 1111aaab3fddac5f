// Package hold runs the lifecycle of parked requests: a delay policy in
// hold form parks a request (202 Accepted and a status URL), and the hold
// is released when its time comes or when staff release it; the upstream
// answer is then fetched and kept until the original requester collects
// it from the status URL, or it expires.
//
// Holds live in the record store (store.HoldStore), so they survive
// restarts and any replica can serve a status URL. Each step is a
// compare-and-set on the hold's version: of several replicas running the
// releaser, one moves a hold on. Every change a record shows — held,
// released (when, by whom, why), fulfilled, expired — is a transition
// entry in the journal carrying the updated record; Apply replays one on
// a record, as verification does.
package hold
