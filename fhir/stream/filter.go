package stream

import (
	"errors"
	"fmt"
	"io"
	"slices"

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
	// MaxListed bounds Stats.Patients, Stats.Withheld and the list given to
	// Disclose (default 10,000), so that memory stays bounded on bodies of
	// any size; Stats.Truncated tells when a list was cut.
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
	// Truncated is set when Patients or Withheld reached Options.MaxListed.
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

// Filter is a streaming JSON/NDJSON resource filter; see NewFilter.
type Filter struct {
	w    io.Writer
	opts Options
	st   Stats
	err  error

	closed  bool
	passAll bool // give up: everything left passes through

	lexer
	walker
	out outputs

	res      fhir.Resource
	patients map[string]struct{}
}

var _ io.WriteCloser = (*Filter)(nil)

// NewFilter returns a Filter writing to w the body written to it, minus
// the resources opts.Inspect withholds. Close it to flush held-back bytes
// and read Stats.
func NewFilter(w io.Writer, opts Options) *Filter {
	if opts.MaxResource <= 0 {
		opts.MaxResource = defaultMaxResource
	}
	if opts.MaxListed <= 0 {
		opts.MaxListed = defaultMaxListed
	}
	f := &Filter{w: w, opts: opts}
	f.lexer.init()
	return f
}

// Write filters p. After an error (a failing writer, or malformed input in
// Strict mode) every call returns that error.
func (f *Filter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.closed {
		return 0, ErrClosed
	}
	n := len(p)
	for len(p) > 0 && f.err == nil {
		if f.passAll {
			f.st.BytesIn += int64(len(p))
			f.write(p)
			break
		}
		k := min(len(p), pieceSize)
		f.base = f.st.BytesIn
		f.st.BytesIn += int64(k)
		f.run(p[:k])
		if f.err == nil && !f.passAll {
			f.checkBounds()
		}
		p = p[k:]
	}
	if f.err != nil {
		return 0, f.err
	}
	return n, nil
}

// Close flushes held-back bytes, checks that the body was complete, and
// closes the underlying writer when it is an io.Closer.
func (f *Filter) Close() error {
	if f.closed {
		return f.err
	}
	f.closed = true
	if f.err == nil && !f.passAll {
		f.finish()
	}
	f.st.Patients = make([]string, 0, len(f.patients))
	for p := range f.patients {
		f.st.Patients = append(f.st.Patients, p)
	}
	slices.Sort(f.st.Patients)
	if c, ok := f.w.(io.Closer); ok {
		if err := c.Close(); err != nil && f.err == nil {
			f.err = err
		}
	}
	return f.err
}

// Stats returns what the Filter saw; it is complete after Close.
func (f *Filter) Stats() Stats { return f.st }

// write sends b to the underlying writer.
func (f *Filter) write(b []byte) {
	if len(b) == 0 || f.err != nil {
		return
	}
	n, err := f.w.Write(b)
	f.st.BytesOut += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		f.err = err
	}
}

// malformed handles a syntax error at cur[i].
func (f *Filter) malformed(i int, msg string) {
	f.st.Malformed = true
	if f.opts.Strict {
		f.flushTo(i)
		if f.err == nil {
			f.err = fmt.Errorf("stream: %s at byte %d: %w", msg, f.base+int64(i), ErrMalformed)
		}
		return
	}
	f.giveUp(i)
}

// giveUp writes what is held back and lets the rest of the body, from
// cur[i], pass through unchanged.
func (f *Filter) giveUp(i int) {
	f.flushTo(i)
	unit := f.out.cap
	if n := len(f.bundles); n > 0 {
		b := &f.bundles[n-1]
		if len(f.out.pend) > 0 {
			f.emitPend(b)
		}
		if f.sink == sinkCap && !f.unitTop && b.written == 0 && len(unit) > 0 && unit[0] == ',' {
			unit = unit[1:]
		}
	}
	f.write(f.out.pend)
	f.write(unit)
	f.out.pend, f.out.cap = f.out.pend[:0], f.out.cap[:0]
	f.write(f.cur[i:])
	f.mark = len(f.cur)
	f.passAll = true
}

// checkBounds enforces MaxResource on what is held back, between pieces.
func (f *Filter) checkBounds() {
	max := f.opts.MaxResource
	switch {
	case f.sink == sinkCap && len(f.out.cap) > max:
		f.overflow()
	case f.sink == sinkPend && len(f.out.pend) > max, f.sink == sinkTotal && len(f.bundles[len(f.bundles)-1].total) > max:
		// A pathological Bundle member (a huge name or total): stop
		// filtering rather than hold it.
		f.st.Uninspected++
		f.giveUp(len(f.cur))
	}
}

// recordWithheld notes a withheld resource.
func (f *Filter) recordWithheld(w Withheld) {
	f.st.WithheldCount++
	if len(f.st.Withheld) < f.opts.MaxListed {
		f.st.Withheld = append(f.st.Withheld, w)
	} else {
		f.st.Truncated = true
	}
	if n := len(f.bundles); n > 0 {
		if b := &f.bundles[n-1]; len(f.bw)-b.bwStart < f.opts.MaxListed {
			f.bw = append(f.bw, w)
		}
	}
}

// count notes a kept resource.
func (f *Filter) count(r *fhir.Resource) {
	if f.st.Resources == nil {
		f.st.Resources = make(map[string]int)
	}
	f.st.Resources[r.Type]++
	for _, p := range r.Patients() {
		if _, ok := f.patients[p]; ok {
			continue
		}
		if len(f.patients) >= f.opts.MaxListed {
			f.st.Truncated = true
			continue
		}
		if f.patients == nil {
			f.patients = make(map[string]struct{})
		}
		f.patients[p] = struct{}{}
	}
}

// inspect shows one resource to the policy and reports whether it is
// withheld; kept resources are counted.
func (f *Filter) inspect(raw []byte, mode string) bool {
	if f.res.Reset(raw) != nil {
		return false // not a resource: nothing to decide on, keep it
	}
	f.res.Mode = mode
	if f.opts.Inspect != nil {
		if v := f.opts.Inspect(&f.res); v.Withhold {
			f.recordWithheld(Withheld{Type: f.res.Type, ID: f.res.ID, Tag: v.Tag})
			return true
		}
	}
	if f.res.Type == "Bundle" && f.isWrapping() {
		return false // a wrapping Bundle kept whole (beyond the nesting limit) is not counted
	}
	f.count(&f.res)
	return false
}

// isWrapping reports whether the Bundle f.res only wraps entries.
func (f *Filter) isWrapping() bool {
	t, _ := f.res.Get("type")
	return bundleTypeOf(t) != btAtomic
}
