package stream

import (
	"bytes"
	"errors"

	"github.com/ehigate/ehigate/fhir"
)

// The fast path. Most of a body is Bundle entries (or NDJSON lines) that
// lie whole inside the piece being lexed. For those the Filter skips the
// lexer: one pass validates the entry and indexes its resource
// (fhir.Resource.ResetPrefix), the resource is judged where it lies, and
// kept entries are not copied but left to go out with the rest of the
// piece in one write.
//
// The fast path decides only what the lexer would decide the same way; it
// hands anything else back to the lexer at the unit's first byte, with
// nothing changed: a unit running past the piece, malformed or too deep
// input, a Bundle (to be streamed), a resource naming its resourceType
// twice, escaped member names, a second resource member, unit sizes over
// MaxResource, newlines inside an NDJSON line. The lexer then does what it
// always did, so results never depend on which path ran.

// fastEntry is what scanEntry found in one entry object.
type fastEntry struct {
	end   int    // index just past the entry
	isRes bool   // f.res holds the entry's resource
	mode  string // search.mode
}

// fastResult is what the fast path made of a unit.
type fastResult uint8

const (
	fastDone fastResult = iota // decided
	fastCut                    // valid as far as the buffer goes, which ends inside it
	fastNo                     // left to the lexer
)

// cutAt is the result of a unit whose reading stopped at p[i]: fastCut
// when that is the end of p.
func cutAt(p []byte, i int) fastResult {
	if i >= len(p) {
		return fastCut
	}
	return fastNo
}

// fastEntries handles the units of the streamed entry array on top of the
// stack from cur[i]: a ',' after an entry (state stAfter) or the first
// entry's '{' (state stValueOrClose). It returns where the lexer goes on,
// with ok false when that is a unit (or the array's end) for the lexer.
func (f *Filter) fastEntries(p []byte, i int) (next int, ok bool) {
	for f.err == nil {
		us, end, r := f.entryUnit(p, i)
		switch r {
		case fastCut:
			if f.startCarry(p, us, false) {
				return len(p), true
			}
			return i, false
		case fastNo:
			return i, false
		}
		if i = f.skipLineSpace(p, end); i >= len(p) {
			return i, true
		}
		if p[i] != ',' {
			return i, false
		}
	}
	return i, true
}

// entryUnit decides the entry unit that cur[i] begins (a ',' in state
// stAfter) or continues (state stValueOrClose: the unit began after '[',
// at mark) when it is whole in p. It returns the unit's first byte and
// the index just past it.
func (f *Filter) entryUnit(p []byte, i int) (us, end int, r fastResult) {
	j := i
	switch {
	case f.state == stValueOrClose:
		b := &f.bundles[f.stack[len(f.stack)-1].aux]
		if f.sink != sinkCap || len(f.out.cap) > 0 || b.unit != unitCaptured {
			return i, 0, fastNo // part of the unit was captured already
		}
		us, j = f.mark, f.skipLineSpace(p, i)
	case f.state == stAfter && p[i] == ',':
		us, j = i, f.skipLineSpace(p, i+1)
	default:
		return i, 0, fastNo
	}
	if j >= len(p) {
		return us, 0, fastCut
	}
	if p[j] != '{' {
		return us, 0, fastNo
	}
	end, r = f.decideEntry(p, us, j)
	return us, end, r
}

// decideEntry decides the entry unit cur[us:] whose entry object starts at
// cur[j] when it is whole in p, and returns the index just past it.
func (f *Filter) decideEntry(p []byte, us, j int) (end int, r fastResult) {
	e, r := f.scanEntry(p, j, len(f.stack))
	switch {
	case r != fastDone:
		return 0, r
	case e.end-us > f.opts.MaxResource,
		f.opts.Kind == KindNDJSON && bytes.IndexByte(p[us:e.end], '\n') >= 0:
		return 0, fastNo
	}
	b := &f.bundles[f.stack[len(f.stack)-1].aux]
	withheld := e.isRes && f.judge(e.mode)
	switch {
	case withheld && b.respond:
		f.flushTo(us)
		b.withheld++
		f.replaceEntry(b)
		f.mark, f.sink = e.end, sinkOut
	case withheld:
		f.flushTo(us)
		f.mark, f.sink = e.end, sinkDrop
		b.withheld++
		if e.mode == "" || e.mode == "match" {
			b.matchesWithheld++
		}
	default:
		if b.written == 0 || f.sink != sinkOut {
			f.flushTo(us)
			f.openEntries(b)
			if b.written == 0 && p[us] == ',' {
				f.mark = us + 1
			}
		}
		f.sink = sinkOut
		b.written++
	}
	f.state = stAfter
	return e.end, fastDone
}

// fastTop handles the top-level value (a body or an NDJSON line) whose
// '{' is cur[i]; ok is false when it is left to the lexer.
func (f *Filter) fastTop(p []byte, i int) (next int, ok bool) {
	if startsBundle(p, i) {
		return i, false
	}
	switch end, r := f.decideTop(p, i); r {
	case fastDone:
		return end, true
	case fastCut:
		if f.startCarry(p, i, true) {
			return len(p), true
		}
	}
	return i, false
}

// decideTop decides the top-level resource at cur[i] when it is whole in
// p, and returns the index just past it.
func (f *Filter) decideTop(p []byte, i int) (end int, r fastResult) {
	n, err := f.res.ResetPrefix(p[i:], 0)
	switch {
	case n == 0:
		return 0, incomplete(err)
	case n > f.opts.MaxResource || !f.plainResource(err),
		f.opts.Kind == KindNDJSON && bytes.IndexByte(p[i:i+n], '\n') >= 0:
		return 0, fastNo
	}
	f.state = stTopAfter
	if err == nil && f.judge("") {
		f.flushTo(i)
		f.mark, f.sink = i+n, sinkDrop
		if f.opts.Kind == KindNDJSON {
			f.dropLine = true
		} else {
			f.st.WithheldAll = true
		}
	}
	return i + n, fastDone
}

// incomplete is the result of a ResetPrefix that failed with err.
func incomplete(err error) fastResult {
	if errors.Is(err, fhir.ErrIncomplete) {
		return fastCut
	}
	return fastNo
}

// plainResource reports whether f.res, just reset with result err, is
// judged the same way by the fast path and the lexer: a resource that is
// not a Bundle, or an object that is not a resource at all.
func (f *Filter) plainResource(err error) bool {
	if err != nil {
		return !errors.Is(err, fhir.ErrAmbiguousType)
	}
	return f.res.Type != "Bundle"
}

// scanEntry reads the entry object at p[j] ('{'), nested in depth
// containers, in one pass: it validates it, resets f.res to its resource
// and reads its search mode.
func (f *Filter) scanEntry(p []byte, j, depth int) (e fastEntry, r fastResult) {
	if depth >= maxNesting {
		return e, fastNo
	}
	k := skipSpace(p, j+1)
	if k < len(p) && p[k] == '}' {
		e.end = k + 1
		return e, fastDone
	}
	seenRes := false
	for {
		name, k2, ok := plainName(p, k)
		if !ok {
			return e, cutAt(p, k2)
		}
		if k = skipSpace(p, k2); k >= len(p) || p[k] != ':' {
			return e, cutAt(p, k)
		}
		if k = skipSpace(p, k+1); k >= len(p) {
			return e, fastCut
		}
		switch {
		case string(name) == "resource":
			if seenRes || p[k] != '{' || startsBundle(p, k) {
				return e, fastNo
			}
			seenRes = true
			n, err := f.res.ResetPrefix(p[k:], depth+1)
			if n == 0 {
				return e, incomplete(err)
			}
			if !f.plainResource(err) {
				return e, fastNo
			}
			e.isRes = err == nil
			k += n
		case string(name) == "search" && p[k] == '{':
			n, err := f.aux.ResetPrefix(p[k:], depth+1)
			if n == 0 {
				return e, incomplete(err)
			}
			if raw, ok := f.aux.Get("mode"); ok {
				mode, end, ok := plainName(raw, 0)
				if !ok || end != len(raw) {
					return e, fastNo // not a plain string: left to the lexer
				}
				if len(mode) > len(f.tok) {
					mode = nil // as the lexer, which keeps at most that much
				}
				e.mode = modeName(mode)
			}
			k += n
		case p[k] == '"':
			if k, ok = skipString(p, k); !ok {
				return e, cutAt(p, k)
			}
		case p[k] == '{':
			n, err := f.aux.ResetPrefix(p[k:], depth+1)
			if n == 0 {
				return e, incomplete(err)
			}
			k += n
		default:
			return e, fastNo
		}
		if k = skipSpace(p, k); k >= len(p) {
			return e, fastCut
		}
		switch p[k] {
		case ',':
			k = skipSpace(p, k+1)
		case '}':
			e.end = k + 1
			return e, fastDone
		default:
			return e, fastNo
		}
	}
}

// plainName reads the string at p[i] when it has no escape and no control
// character, returning its body and the index just past it; on failure,
// end is where reading stopped.
func plainName(p []byte, i int) (body []byte, end int, ok bool) {
	if i >= len(p) || p[i] != '"' {
		return nil, i, false
	}
	k := stringStop(p, i+1)
	if k >= len(p) || p[k] != '"' {
		return nil, k, false
	}
	return p[i+1 : k], k + 1, true
}

// skipString returns the index just past the valid string at p[i] (its
// opening quote); on failure (ok false) end is where reading stopped,
// len(p) when the string runs past p.
func skipString(p []byte, i int) (end int, ok bool) {
	for k := i + 1; ; {
		if k = stringStop(p, k); k >= len(p) {
			return len(p), false
		}
		switch c := p[k]; {
		case c == '"':
			return k + 1, true
		case c != '\\':
			return k, false
		case k+1 >= len(p):
			return len(p), false
		}
		switch p[k+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			k += 2
		case 'u':
			for h := k + 2; h < k+6; h++ {
				if h >= len(p) {
					return len(p), false
				}
				if c := p[h]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
					return k, false
				}
			}
			k += 6
		default:
			return k, false
		}
	}
}

// startsBundle reports whether the object at p[i] starts with
// "resourceType":"Bundle", as wrapping Bundles usually do.
func startsBundle(p []byte, i int) bool {
	k := skipSpace(p, i+1)
	name, k, ok := plainName(p, k)
	if !ok || string(name) != "resourceType" {
		return false
	}
	if k = skipSpace(p, k); k >= len(p) || p[k] != ':' {
		return false
	}
	v, _, ok := plainName(p, skipSpace(p, k+1))
	return ok && string(v) == "Bundle"
}

// skipLineSpace is skipSpace within one line in NDJSON: newlines there are
// the lexer's to handle.
func (f *Filter) skipLineSpace(p []byte, i int) int {
	if f.opts.Kind == KindJSON {
		return skipSpace(p, i)
	}
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r') {
		i++
	}
	return i
}
