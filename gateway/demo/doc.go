// Package demo is an in-memory FHIR R4 server that stands in for an EHR:
// `ehigate demo` runs it on loopback behind the gateway, and tests and
// benchmarks load it with synthetic patients (Generate) or real Synthea
// transaction Bundles (LoadTransaction).
//
// It speaks enough of the R4 RESTful API to exercise every interaction a
// client can send through the gateway: capabilities, read and vread,
// create, update and patch (plain and conditional), delete, history at
// three levels, type, system and compartment search with paging, batch and
// transaction Bundles, $everything, $validate, $meta and the Bulk Data 2.0
// asynchronous export. Every link it emits is absolute and built from the
// request's own scheme and Host, so it links to itself behind any listener.
//
// Resources are kept as compact JSON bytes with a small search index per
// version; responses are streamed entry by entry.
package demo
