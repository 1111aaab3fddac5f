package fhir

import (
	"bytes"
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

// jsFail is what the scanners return: no failure when msg is empty, else
// a syntax error kept as a value, which costs nothing until it is made an
// error. Callers scanning a buffer that may end inside a value (see
// Resource.ResetPrefix) meet failures often.
type jsFail struct {
	off int
	msg string
}

func jsErrAt(off int, msg string) jsFail { return jsFail{off: off, msg: msg} }

// bad reports a failure.
func (f jsFail) bad() bool { return f.msg != "" }

// cut reports a failure because data, of length n, ended: all of it was
// valid as far as it went. Scanners report such failures at offset n and
// every other one at the offending byte.
func (f jsFail) cut(n int) bool { return f.msg != "" && f.off >= n }

// err returns the failure as an error (nil when there is none).
func (f jsFail) err() error {
	if f.msg == "" {
		return nil
	}
	return &jsSyntaxError{off: f.off, msg: f.msg}
}

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
		return dst, jsErrAt(i, "not an object").err()
	}
	dst, end, fail := jsScanObjectAt(data, i, dst, 0)
	if fail.bad() {
		return dst, fail.err()
	}
	if i = jsSpace(data, end); i != len(data) {
		return dst, jsErrAt(i, "data after the object").err()
	}
	return dst, nil
}

// jsScanObjectAt validates the JSON object whose '{' is data[i], appends
// its members to dst in document order and returns the index just past
// it; bytes after it are not looked at. depth is the number of containers
// the object is nested in, counted against jsMaxDepth.
func jsScanObjectAt(data []byte, i int, dst []jsMember, depth int) ([]jsMember, int, jsFail) {
	if depth+1 > jsMaxDepth {
		return dst, 0, jsErrAt(i, "nesting too deep")
	}
	i = jsSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return dst, i + 1, jsFail{}
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return dst, 0, jsErrAt(i, "expected member name")
		}
		end, fail := jsPlainNameEnd(data, i), jsFail{}
		plain := end > 0
		if !plain {
			if end, fail = jsSkipString(data, i); fail.bad() {
				return dst, 0, fail
			}
		}
		m := jsMember{ks: i + 1, ke: end - 1}
		if !plain && !jsPlain(data[m.ks:m.ke]) {
			var name string
			if err := json.Unmarshal(data[i:end], &name); err != nil {
				return dst, 0, jsErrAt(i, "bad member name")
			}
			m.decoded, m.name = true, name
		}
		i = jsSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return dst, 0, jsErrAt(i, "expected ':'")
		}
		i = jsSpace(data, i+1)
		m.vs = i
		if i, fail = jsSkipValue(data, i, depth+1); fail.bad() {
			return dst, 0, fail
		}
		m.ve = i
		dst = append(dst, m)
		i = jsSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = jsSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return dst, i + 1, jsFail{}
		}
		return dst, 0, jsErrAt(i, "expected ',' or '}'")
	}
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
	i := 0
	for ; i+8 <= len(body); i += 8 {
		w := swarLoad(body, i)
		b := w ^ (swarOnes * '\\')
		if ((b-swarOnes)&^b|w)&swarHighs != 0 {
			break // a backslash or a byte above 0x7f: see below
		}
	}
	for ; i < len(body); i++ {
		if c := body[i]; c == '\\' || c >= utf8.RuneSelf {
			return bytes.IndexByte(body[i:], '\\') < 0 && utf8.Valid(body[i:])
		}
	}
	return true
}
