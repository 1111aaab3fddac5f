package stream

import (
	"errors"

	"github.com/ehigate/ehigate/fhir"
)

// ErrMalformed is matched (errors.Is) by the error a Strict Filter returns
// for a body that is not well-formed JSON or NDJSON.
var ErrMalformed = errors.New("stream: malformed JSON")

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("stream: write after close")

// Kind is the shape of a body given to a Filter.
type Kind uint8

// The body kinds.
const (
	// KindJSON is one JSON value: a Bundle, whose entries are filtered, or a
	// single resource, which is held back until complete and then written
	// or withheld whole.
	KindJSON Kind = iota
	// KindNDJSON is newline-delimited JSON: one resource per line, as in
	// Bulk Data output files.
	KindNDJSON
)

// Verdict is an Inspect callback's answer for one resource.
type Verdict struct {
	// Withhold drops the resource from the body.
	Withhold bool
	// Tag is the caller's label for the decision, e.g. the policy id; it is
	// copied into Withheld.
	Tag string
}

// Withheld names one withheld resource, never its content.
type Withheld struct {
	Type, ID, Tag string
}

// Options configure a Filter.
type Options struct {
	// Kind is the body's shape.
	Kind Kind
	// Inspect is called for every resource: each Bundle entry's resource
	// (recursively for Bundles nested as entry resources), each NDJSON line,
	// or the top-level resource when it is not a Bundle. The Resource is
	// reused and valid only during the call. nil keeps everything (the
	// Filter then only counts).
	Inspect func(r *fhir.Resource) Verdict
	// Disclose, when set and something was withheld from a Bundle, returns
	// the JSON of one entry object appended to that Bundle's entry array
	// (e.g. an OperationOutcome with search.mode=outcome). withheld lists
	// that Bundle's own withheld entries (at most MaxListed) and is valid
	// only during the call. An empty result appends nothing.
	Disclose func(withheld []Withheld) []byte
	// Replace, when set, keeps the positions of a batch-response's or
	// transaction-response's entries (the n-th answers the n-th request
	// entry): an entry whose resource is withheld is replaced by the JSON
	// entry object Replace returns for it (e.g. a response.status of 403
	// with an OperationOutcome) instead of being dropped, and Disclose
	// adds nothing to such a Bundle. The Bundle's type must come before
	// its entries, as FHIR's JSON serializers write it; otherwise its
	// withheld entries are dropped like any Bundle's.
	Replace func(w Withheld) []byte
	// FixTotal makes a Bundle's "total" count the matches that remain: its
	// value minus the entries withheld from the Bundle whose search.mode is
	// match or absent (include and outcome entries are not counted by
	// total). When total comes before the entries, as it usually does, the
	// member is held back and written as the Bundle's last member: JSON
	// objects are unordered collections of members (RFC 8259 §4, on which
	// FHIR's JSON format is built), so the Bundle means the same; only
	// FHIR's XML format fixes element order. Matches withheld from other
	// pages of a search are not known and not subtracted.
	FixTotal bool
	// MaxResource bounds the bytes captured for one resource or Bundle
	// entry (default 16 MiB). A larger one is passed through uninspected
	// and counted in Stats.Uninspected.
	MaxResource int
	// MaxListed bounds Stats.Patients, Stats.Withheld, the types counted in
	// Stats.Resources and the list given to Disclose (default 10,000), so
	// that memory stays bounded on bodies of any size; Stats.Truncated tells
	// when one was cut.
	MaxListed int
	// Strict makes malformed input an error matching ErrMalformed, returned
	// by Write or Close. When Strict is false, the rest of the body from the
	// first byte not yet written passes through unchanged and
	// Stats.Malformed is set.
	Strict bool
}

// Stats is what a Filter saw, complete after Close.
type Stats struct {
	// Resources counts the kept resources by type. Bundles that only wrap
	// entries (every type but document and message) are not counted.
	Resources map[string]int
	// Patients are the sorted, unique ids of the Patients whose compartment
	// holds a kept resource (fhir.Resource.Patients).
	Patients []string
	// Withheld lists the withheld resources, in body order.
	Withheld []Withheld
	// WithheldCount counts every withheld resource, listed or not.
	WithheldCount int
	// Truncated is set when Patients, Withheld or the types in Resources
	// reached Options.MaxListed.
	Truncated bool
	// Uninspected counts resources passed through without inspection
	// because they exceeded Options.MaxResource (or were ambiguous, such as
	// a Bundle entry with two resource members).
	Uninspected int
	// Malformed is set when the body was not well-formed.
	Malformed bool
	// BytesIn and BytesOut count the bytes written to the Filter and by it.
	BytesIn, BytesOut int64
	// WithheldAll is set when the top-level resource itself was withheld:
	// nothing was written.
	WithheldAll bool
}

const (
	defaultMaxResource = 16 << 20
	defaultMaxListed   = 10000
	// pieceSize is how much input is lexed between checks of the capture
	// bound, so captures exceed MaxResource by at most this much.
	pieceSize = 32 << 10
	// maxNesting bounds the JSON nesting depth, as encoding/json does.
	maxNesting = 10000
	// maxBundleNesting bounds how deep Bundles nested as entry resources
	// are filtered entry by entry; deeper ones are inspected whole.
	maxBundleNesting = 4
)
