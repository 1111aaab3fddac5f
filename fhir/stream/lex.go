package stream

import (
	"encoding/binary"
	"math/bits"
)

// The Filter's lexer is a push-down JSON state machine fed arbitrary
// chunks. It validates the input as it goes (the grammar of RFC 8259, with
// encoding/json's nesting limit) and calls the Filter's structural hooks
// (events.go), which decide where each byte goes: written, captured,
// pending, or dropped. Bytes are moved in runs between sink changes, never
// one by one.

type lexState uint8

const (
	stTop          lexState = iota // top level, before a value
	stTopAfter                     // JSON: after the top-level value
	stValue                        // a value is expected
	stValueOrClose                 // after '[': a value or ']'
	stKeyOrClose                   // after '{': a member name or '}'
	stKey                          // after ',' in an object: a member name
	stColon                        // after a member name: ':'
	stAfter                        // after a value in a container: ',' or the closing bracket
	stString                       // in a string
	stEsc                          // after a backslash in a string
	stHex                          // in the digits of a \u escape
	stNumber                       // in a number
	stLiteral                      // in true, false or null
)

type numState uint8

const (
	numMinus numState = iota // after '-'
	numZero                  // after a leading 0
	numInt                   // in the integer digits
	numDot                   // after '.'
	numFrac                  // in the fraction digits
	numE                     // after 'e'
	numESign                 // after the exponent's sign
	numExp                   // in the exponent digits
)

// sinkKind is where the bytes being lexed go.
type sinkKind uint8

const (
	sinkOut   sinkKind = iota // written
	sinkCap                   // captured: the unit (entry or top-level resource) being read
	sinkPend                  // pending: a Bundle member's name, until it is known
	sinkTotal                 // a held Bundle.total value
	sinkDrop                  // dropped
)

// frame is one open object or array.
type frame struct {
	obj  bool
	role role
	key  keyCode // the current member's name, for roles that track names
	aux  int32   // index into Filter.bundles for roleBundle and roleEntries
}

type lexer struct {
	state  lexState
	stack  []frame
	strKey bool // the string being lexed is a member name
	acc    bool // accumulate the string being lexed into tok
	tok    [32]byte
	tokN   int
	hexN   int
	hexV   rune
	num    numState
	lit    string
	litN   int
	base   int64 // input offset of cur[0], for error messages

	cur  []byte // the buffer being lexed
	mark int    // cur[mark:] has not been moved to a sink yet
	sink sinkKind
}

func (l *lexer) init() {
	l.stack = make([]frame, 0, 16)
}

// strStop marks the bytes that end a run of plain string content.
var strStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace. Runs of spaces (indentation) are skipped eight bytes at
// a time.
func skipSpace(p []byte, i int) int {
outer:
	for i < len(p) {
		switch p[i] {
		case ' ':
			for i++; i+8 <= len(p); i += 8 {
				if x := binary.LittleEndian.Uint64(p[i:]) ^ (swarOnes * ' '); x != 0 {
					i += bits.TrailingZeros64(x) >> 3
					continue outer
				}
			}
		case '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// run lexes p, moving its bytes to their sinks.
func (f *Filter) run(p []byte) {
	f.cur, f.mark = p, 0
	i := 0
	if f.carrying {
		i = f.resume(p)
	}
	for i < len(p) && f.err == nil && !f.passAll {
		switch f.state {
		case stString:
			i = f.lexString(p, i)
		case stEsc, stHex:
			i = f.lexEscape(p, i)
		case stNumber:
			i = f.lexNumber(p, i)
		case stLiteral:
			i = f.lexLiteral(p, i)
		default:
			switch c := p[i]; c {
			case ' ', '\t', '\r':
				if f.opts.Kind == KindJSON {
					i = skipSpace(p, i+1)
				} else {
					i++ // NDJSON: newlines end lines, never skip them
				}
			case '\n':
				if f.opts.Kind == KindJSON {
					i = skipSpace(p, i+1)
					break
				}
				if len(f.stack) > 0 {
					f.malformed(i, "newline inside an NDJSON line")
					break
				}
				i++
				if f.state == stTopAfter {
					f.state = stTop
				}
				if f.dropLine {
					f.dropLine = false
					f.setSink(sinkOut, i)
				}
			default:
				i = f.structural(p, i, c)
			}
		}
	}
	if f.err == nil && !f.passAll {
		f.flushTo(len(p))
	}
}

// setSink moves cur[mark:i] to the current sink and switches to s.
func (f *Filter) setSink(s sinkKind, i int) {
	f.flushTo(i)
	f.sink = s
}

// flushTo moves cur[mark:i] to the current sink.
func (f *Filter) flushTo(i int) {
	if i <= f.mark {
		return
	}
	b := f.cur[f.mark:i]
	f.mark = i
	switch f.sink {
	case sinkOut:
		f.write(b)
	case sinkCap:
		f.out.cap = append(f.out.cap, b...)
	case sinkPend:
		f.out.pend = append(f.out.pend, b...)
	case sinkTotal:
		t := &f.bundles[len(f.bundles)-1].total
		*t = append(*t, b...)
	}
}

// capPos is the offset in the capture buffer of cur[i].
func (f *Filter) capPos(i int) int { return len(f.out.cap) + i - f.mark }

// structural handles a byte outside strings, numbers and literals.
func (f *Filter) structural(p []byte, i int, c byte) int {
	if (f.state == stAfter && c == ',' || f.state == stValueOrClose && c == '{') &&
		!f.descend && !f.noFast && f.stack[len(f.stack)-1].role == roleEntries {
		j, ok := f.fastEntries(p, i)
		if ok {
			return j
		}
		i, c = j, p[j] // a unit, or the array's end, for the lexer
	}
	switch f.state {
	case stTop:
		if f.dropLine {
			f.dropLine = false
			f.setSink(sinkOut, i)
		}
		if c == '{' && !f.descend && !f.noFast {
			if j, ok := f.fastTop(p, i); ok {
				return j
			}
		}
		f.topValueStart(i, c)
		return f.beginValue(p, i, c)
	case stTopAfter:
		f.malformed(i, "data after the top-level value")
		return i
	case stValue, stValueOrClose:
		if c == ']' && f.state == stValueOrClose {
			return f.closeContainer(i, false)
		}
		f.childStart(i, c)
		return f.beginValue(p, i, c)
	case stKeyOrClose, stKey:
		if c == '}' && f.state == stKeyOrClose {
			return f.closeContainer(i, true)
		}
		if c != '"' {
			f.malformed(i, "expected a member name")
			return i
		}
		f.strKey = true
		f.acc = f.stack[len(f.stack)-1].role.tracksNames()
		f.tokN = 0
		f.state = stString
		return i + 1
	case stColon:
		if c != ':' {
			f.malformed(i, "expected ':'")
			return i
		}
		f.state = stValue
		f.afterColon(i + 1)
		return i + 1
	case stAfter:
		top := &f.stack[len(f.stack)-1]
		switch {
		case c == ',':
			f.beforeComma(i)
			i++
			if f.dropComma {
				f.dropComma = false
				f.setSink(sinkOut, i)
			}
			if top.obj {
				f.state = stKey
			} else {
				f.state = stValue
			}
			return i
		case c == '}' && top.obj, c == ']' && !top.obj:
			return f.closeContainer(i, top.obj)
		}
		f.malformed(i, "expected ',' or a closing bracket")
		return i
	}
	f.malformed(i, "unexpected byte")
	return i
}

// beginValue starts the value whose first byte is p[i].
func (f *Filter) beginValue(p []byte, i int, c byte) int {
	switch {
	case c == '{' || c == '[':
		if len(f.stack) >= maxNesting {
			f.malformed(i, "nesting too deep")
			return i
		}
		f.stack = append(f.stack, frame{obj: c == '{', role: f.nextRole, aux: f.nextAux})
		f.nextRole, f.nextAux = roleNone, 0
		i++
		if c == '{' {
			f.state = stKeyOrClose
		} else {
			f.state = stValueOrClose
		}
		f.afterOpen(i)
		return i
	case c == '"':
		f.strKey = false
		f.acc = f.wantValue
		f.wantValue = false
		f.tokN = 0
		f.state = stString
		return i + 1
	case c == 't':
		f.lit, f.litN, f.state = "true", 1, stLiteral
		return i + 1
	case c == 'f':
		f.lit, f.litN, f.state = "false", 1, stLiteral
		return i + 1
	case c == 'n':
		f.lit, f.litN, f.state = "null", 1, stLiteral
		return i + 1
	case c == '-':
		f.num, f.state = numMinus, stNumber
		return i + 1
	case c == '0':
		f.num, f.state = numZero, stNumber
		return i + 1
	case c >= '1' && c <= '9':
		f.num, f.state = numInt, stNumber
		return i + 1
	}
	f.malformed(i, "expected a value")
	return i
}

// closeContainer consumes the '}' or ']' at cur[i].
func (f *Filter) closeContainer(i int, obj bool) int {
	top := f.stack[len(f.stack)-1]
	f.beforeClose(top, i)
	i++
	f.stack = f.stack[:len(f.stack)-1]
	if f.afterClose(top, i) {
		return i // replayed: the state is already past this byte
	}
	f.valueEnd(i)
	return i
}

// valueEnd is called after a value's last byte, cur[i-1].
func (f *Filter) valueEnd(i int) {
	if len(f.stack) == 0 {
		f.topValueEnd(i)
		return
	}
	f.state = stAfter
	f.childEnd(i)
}
