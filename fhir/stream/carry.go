package stream

import "sync"

// Carrying. A unit the fast path can read but for the piece ending inside
// it (fastCut) is held back in Filter.carry, bytes the lexer has not seen;
// the next pieces are appended to it whole and the unit read again from
// its start, each time the carry has doubled (so that small writes do not
// make it quadratic). Once it is whole the unit is decided by the fast
// path like any other and the lexer goes on just past it; a unit the fast
// path leaves after all, or one growing past carryLimit, is handed to the
// lexer as if just written. The lexer's state stays at the unit's first
// byte meanwhile.

const (
	// maxCarry bounds a carried unit: a larger one is read again at each
	// piece, so the lexer is cheaper for it.
	maxCarry = 4 * pieceSize
	// keepCarry is the largest carry buffer kept for reuse.
	keepCarry = maxCarry + pieceSize
)

// carryBufs keeps carry buffers for reuse across Filters (Close puts a
// Filter's back): most responses carry a unit across a write.
var carryBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2*pieceSize); return &b }}

// releaseCarry puts the carry buffer back for reuse.
func (f *Filter) releaseCarry() {
	if f.carry != nil && cap(f.carry) <= keepCarry {
		b := f.carry[:0]
		carryBufs.Put(&b)
	}
	f.carry = nil
}

// carryLimit is the largest unit carried.
func (f *Filter) carryLimit() int { return min(f.opts.MaxResource, maxCarry) }

// startCarry carries the unit cur[us:] (a top-level value when top), which
// runs past p; it reports whether it did.
func (f *Filter) startCarry(p []byte, us int, top bool) bool {
	if f.replayDepth > 0 || len(p)-us > f.carryLimit() {
		return false
	}
	f.flushTo(us)
	if f.carry == nil {
		f.carry = *carryBufs.Get().(*[]byte)
	}
	f.carry = append(f.carry[:0], p[us:]...)
	f.carrying, f.carryTop, f.carryBase = true, top, f.base+int64(us)
	f.carryWant = 2 * len(f.carry)
	f.mark = len(p)
	return true
}

// resume goes on with the carried unit at the start of the piece p, and
// returns where the lexer goes on in p.
func (f *Filter) resume(p []byte) int {
	old, base := len(f.carry), f.base
	c := append(f.carry, p...)
	f.carry = c
	if len(c) < f.carryWant && len(c) <= f.carryLimit() {
		f.mark = len(p)
		return len(p) // read it again once it has doubled
	}
	f.cur, f.mark, f.base = c, 0, f.carryBase
	end, r := 0, fastNo
	if f.carryTop {
		end, r = f.decideTop(c, 0)
	} else {
		_, end, r = f.entryUnit(c, 0)
	}
	next := 0
	switch {
	case r == fastDone:
		f.flushTo(end)
		f.carrying = false
		if end < old { // it ended in a piece appended without a reading
			f.lex(c[end:old], f.carryBase+int64(end))
		} else {
			next = end - old
		}
	case r == fastCut && len(c) <= f.carryLimit():
		f.carryWant = 2 * len(c)
		f.cur, f.mark, f.base = p, len(p), base
		return len(p) // still carrying
	default:
		f.lex(c[:old], f.carryBase)
	}
	if f.carry = c[:0]; cap(c) > keepCarry {
		f.carry = nil
	}
	f.cur, f.mark, f.base = p, next, base
	if f.passAll {
		f.write(p[next:])
		f.mark = len(p)
		return len(p)
	}
	return next
}

// lex hands b, input from offset base, to the lexer as if just written.
func (f *Filter) lex(b []byte, base int64) {
	f.carrying = false
	noFast := f.noFast
	f.noFast = true
	for off := 0; off < len(b) && f.err == nil; {
		if f.passAll {
			f.write(b[off:])
			break
		}
		k := min(len(b)-off, pieceSize)
		f.base = base + int64(off)
		f.run(b[off : off+k])
		if f.err == nil && !f.passAll {
			f.checkBounds()
		}
		off += k
	}
	f.noFast = noFast
}
