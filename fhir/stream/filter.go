package stream

import (
	"fmt"
	"io"
	"slices"

	"github.com/ehigate/ehigate/fhir"
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
	aux      fhir.Resource // entry members validated on the fast path
	patients map[string]struct{}
	// lastWithheld is the resource judge withheld last.
	lastWithheld Withheld

	noFast bool // lex everything (see fast.go); also set by tests

	// The unit carried for the fast path (see carry.go).
	carry     []byte
	carrying  bool
	carryTop  bool
	carryBase int64
	carryWant int // the carry's length at which to read it again
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
	f.carrying = false
	f.releaseCarry()
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
		if f.sink == sinkTotal {
			f.write(b.total)
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
	if _, ok := f.st.Resources[r.Type]; ok || len(f.st.Resources) < f.opts.MaxListed {
		f.st.Resources[r.Type]++
	} else {
		f.st.Truncated = true
	}
	r.EachPatient(f.addPatient)
}

// addPatient notes the id of a Patient whose compartment holds a kept
// resource.
func (f *Filter) addPatient(id []byte) {
	if _, ok := f.patients[string(id)]; ok {
		return
	}
	if len(f.patients) >= f.opts.MaxListed {
		f.st.Truncated = true
		return
	}
	if f.patients == nil {
		f.patients = make(map[string]struct{})
	}
	f.patients[string(id)] = struct{}{}
}

// inspect shows one resource to the policy and reports whether it is
// withheld; kept resources are counted.
func (f *Filter) inspect(raw []byte, mode string) bool {
	// With a policy asking, the resource is validated in full before it is
	// judged; when only counting, the lexer's check of the entry suffices.
	reset := f.res.ResetValid
	if f.opts.Inspect != nil {
		reset = f.res.Reset
	}
	if reset(raw) != nil {
		return false // not a resource: nothing to decide on, keep it
	}
	return f.judge(mode)
}

// judge shows f.res, a resource, to the policy and reports whether it is
// withheld; kept resources are counted.
func (f *Filter) judge(mode string) bool {
	f.res.Mode = mode
	if f.opts.Inspect != nil {
		if v := f.opts.Inspect(&f.res); v.Withhold {
			f.lastWithheld = Withheld{Type: f.res.Type, ID: f.res.ID, Tag: v.Tag}
			f.recordWithheld(f.lastWithheld)
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
