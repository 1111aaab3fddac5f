package fhir

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// jsMaxDepth is the deepest nesting of objects and arrays accepted, the same
// limit encoding/json applies.
const jsMaxDepth = 10000

// jsSyntaxError reports malformed JSON at a byte offset.
type jsSyntaxError struct {
	off int
	msg string
}

func (e *jsSyntaxError) Error() string {
	return fmt.Sprintf("fhir: invalid JSON at byte %d: %s", e.off, e.msg)
}

func jsErrAt(off int, msg string) error { return &jsSyntaxError{off: off, msg: msg} }

// jsMember locates one member of a JSON object inside the object's bytes.
type jsMember struct {
	// ks, ke delimit the raw name, between its quotes.
	ks, ke int
	// vs, ve delimit the value.
	vs, ve int
	// decoded is set when the raw name has escapes or invalid UTF-8; name
	// then holds the name as encoding/json would decode it.
	decoded bool
	name    string
}

// is reports whether the member's name is name.
func (m *jsMember) is(raw []byte, name string) bool {
	if m.decoded {
		return m.name == name
	}
	return string(raw[m.ks:m.ke]) == name
}

// key returns the member's decoded name.
func (m *jsMember) key(raw []byte) string {
	if m.decoded {
		return m.name
	}
	return string(raw[m.ks:m.ke])
}

// jsScanObject checks that data is exactly one JSON object (whitespace around
// it allowed) and appends its members to dst in document order. Nested
// values are validated and skipped, never decoded.
func jsScanObject(data []byte, dst []jsMember) ([]jsMember, error) {
	i := jsSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return dst, jsErrAt(i, "not an object")
	}
	i = jsSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			if i >= len(data) || data[i] != '"' {
				return dst, jsErrAt(i, "expected member name")
			}
			end, plain, err := jsScanString(data, i)
			if err != nil {
				return dst, err
			}
			m := jsMember{ks: i + 1, ke: end - 1}
			if !plain {
				var name string
				if err := json.Unmarshal(data[i:end], &name); err != nil {
					return dst, jsErrAt(i, "bad member name")
				}
				m.decoded, m.name = true, name
			}
			i = jsSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return dst, jsErrAt(i, "expected ':'")
			}
			i = jsSpace(data, i+1)
			m.vs = i
			if i, err = jsSkipValue(data, i, 1); err != nil {
				return dst, err
			}
			m.ve = i
			dst = append(dst, m)
			i = jsSpace(data, i)
			if i < len(data) && data[i] == ',' {
				i = jsSpace(data, i+1)
				continue
			}
			if i < len(data) && data[i] == '}' {
				i++
				break
			}
			return dst, jsErrAt(i, "expected ',' or '}'")
		}
	}
	if i = jsSpace(data, i); i != len(data) {
		return dst, jsErrAt(i, "data after the object")
	}
	return dst, nil
}

// jsString decodes raw, the bytes of a JSON value, as a string. It
// returns prev, without allocating, when the decoded string equals it.
func jsString(raw []byte, prev string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if jsPlain(body) {
		if string(body) == prev {
			return prev, true
		}
		return string(body), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsPlain reports whether the body of a valid JSON string decodes to
// itself: no escapes and valid UTF-8.
func jsPlain(body []byte) bool {
	ascii := true
	for _, c := range body {
		if c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(body)
}

func jsSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ':
			i++
			// Indentation: skip eight spaces at a time.
			for i+8 <= len(data) && binary.LittleEndian.Uint64(data[i:]) == 0x2020202020202020 {
				i += 8
			}
		case '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsStrStop marks the bytes that end the fast path of a JSON string: the
// quote, the backslash and the control characters JSON forbids unescaped.
var jsStrStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// jsScanString validates the string starting at data[i] (a quote) and returns
// the index just past its closing quote. plain reports that the body has
// no escapes and is valid UTF-8.
func jsScanString(data []byte, i int) (end int, plain bool, err error) {
	start := i + 1
	plain = true
	for i = start; i < len(data); {
		c := data[i]
		if !jsStrStop[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			if plain && !utf8.Valid(data[start:i]) {
				plain = false
			}
			return i + 1, plain, nil
		case c == '\\':
			plain = false
			n, err := jsEscapeLen(data, i)
			if err != nil {
				return 0, false, err
			}
			i += n
		default:
			return 0, false, jsErrAt(i, "control character in string")
		}
	}
	return 0, false, jsErrAt(i, "unterminated string")
}

// jsSkipString is jsScanString without the plain report.
func jsSkipString(data []byte, i int) (int, error) {
	for i++; i < len(data); {
		c := data[i]
		if !jsStrStop[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			n, err := jsEscapeLen(data, i)
			if err != nil {
				return 0, err
			}
			i += n
		default:
			return 0, jsErrAt(i, "control character in string")
		}
	}
	return 0, jsErrAt(i, "unterminated string")
}

// jsEscapeLen validates the escape at data[i] (a backslash) and returns its
// length.
func jsEscapeLen(data []byte, i int) (int, error) {
	if i+1 >= len(data) {
		return 0, jsErrAt(i, "unterminated string")
	}
	switch data[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if i+6 > len(data) {
			return 0, jsErrAt(i, "unterminated string")
		}
		for _, h := range data[i+2 : i+6] {
			if !jsIsHex(h) {
				return 0, jsErrAt(i, "bad \\u escape")
			}
		}
		return 6, nil
	}
	return 0, jsErrAt(i, "bad escape")
}

func jsIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func jsIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// jsNumber validates the number starting at data[i] and returns the index
// just past it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsNumber(data []byte, i int) (int, error) {
	start := i
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i++; i < len(data) && jsIsDigit(data[i]); i++ {
		}
	default:
		return 0, jsErrAt(start, "bad number")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !jsIsDigit(data[i]) {
			return 0, jsErrAt(start, "bad number")
		}
		for i++; i < len(data) && jsIsDigit(data[i]); i++ {
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !jsIsDigit(data[i]) {
			return 0, jsErrAt(start, "bad number")
		}
		for i++; i < len(data) && jsIsDigit(data[i]); i++ {
		}
	}
	return i, nil
}

// jsLiteral validates true, false or null at data[i].
func jsLiteral(data []byte, i int) (int, error) {
	var lit string
	switch data[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	default:
		lit = "null"
	}
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return 0, jsErrAt(i, "bad literal")
	}
	return i + len(lit), nil
}

// jsStack is a stack of open containers, one bit each (1 = object),
// kept on the caller's stack for the usual shallow nesting.
type jsStack struct {
	n     int
	small [4]uint64
	big   []uint64
}

func (s *jsStack) push(object bool) {
	w, b := s.n/64, uint(s.n%64)
	words := s.small[:]
	if w >= len(words) {
		for len(s.big) <= w-len(s.small) {
			s.big = append(s.big, 0)
		}
		words, w = s.big, w-len(s.small)
	}
	if object {
		words[w] |= 1 << b
	} else {
		words[w] &^= 1 << b
	}
	s.n++
}

// top reports whether the innermost open container is an object.
func (s *jsStack) top() bool {
	k := s.n - 1
	w, b := k/64, uint(k%64)
	if w < len(s.small) {
		return s.small[w]&(1<<b) != 0
	}
	return s.big[w-len(s.small)]&(1<<b) != 0
}

// jsSkipValue validates the JSON value starting at data[i] (no leading
// whitespace) and returns the index just past it. depth is the nesting of
// the value's parent, for the depth limit.
func jsSkipValue(data []byte, i, depth int) (int, error) {
	var stack jsStack
	var err error
	for {
		// A value is expected at i.
		if i >= len(data) {
			return 0, jsErrAt(i, "unexpected end of input")
		}
		switch c := data[i]; {
		case c == '{' || c == '[':
			if depth+stack.n+1 > jsMaxDepth {
				return 0, jsErrAt(i, "nesting too deep")
			}
			stack.push(c == '{')
			i = jsSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '}' or ']'
				i++
				stack.n--
				break
			}
			if c == '{' {
				if i, err = jsMemberName(data, i); err != nil {
					return 0, err
				}
			}
			continue
		case c == '"':
			if i, err = jsSkipString(data, i); err != nil {
				return 0, err
			}
		case c == 't' || c == 'f' || c == 'n':
			if i, err = jsLiteral(data, i); err != nil {
				return 0, err
			}
		case c == '-' || jsIsDigit(c):
			if i, err = jsNumber(data, i); err != nil {
				return 0, err
			}
		default:
			return 0, jsErrAt(i, "expected a value")
		}
		// A value ended at i: close containers until one continues.
		for {
			if stack.n == 0 {
				return i, nil
			}
			i = jsSpace(data, i)
			if i >= len(data) {
				return 0, jsErrAt(i, "unexpected end of input")
			}
			c, obj := data[i], stack.top()
			if c == ',' {
				i = jsSpace(data, i+1)
				if obj {
					if i, err = jsMemberName(data, i); err != nil {
						return 0, err
					}
				}
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				i++
				stack.n--
				continue
			}
			return 0, jsErrAt(i, "expected ',' or a closing bracket")
		}
	}
}

// jsMemberName validates `"name" :` at data[i] and returns the index of the
// value after it.
func jsMemberName(data []byte, i int) (int, error) {
	if i >= len(data) || data[i] != '"' {
		return 0, jsErrAt(i, "expected member name")
	}
	i, err := jsSkipString(data, i)
	if err != nil {
		return 0, err
	}
	i = jsSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return 0, jsErrAt(i, "expected ':'")
	}
	return jsSpace(data, i+1), nil
}
