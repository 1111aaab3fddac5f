// Package stream works on FHIR response bodies as they flow through the
// gateway, with memory bounded however large a body is:
//
//   - Filter reads a JSON body (a Bundle or a single resource) or an NDJSON
//     body, shows every resource to a policy callback, drops the resources
//     the policy withholds and counts what was released. Kept entries are
//     written byte for byte as received.
//   - NewRewriter replaces the upstream's base URL with the gateway's public
//     base in any body (JSON, NDJSON, XML).
//   - NewReader turns a chain of such writers into a reader, for
//     httputil.ReverseProxy.ModifyResponse.
//
// Writers here are stages of a pipeline: Close flushes what a stage holds
// back and then closes the writer it writes to when that is an io.Closer,
// so closing the head of a chain (filter → rewriter → gzip.Writer) finishes
// all of it.
package stream
