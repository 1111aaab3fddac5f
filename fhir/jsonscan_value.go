package fhir

import "math/bits"

// The value scanner: jsSkipValue validates any JSON value in one pass.

// jsEscapeLen validates the escape at data[i] (a backslash) and returns its
// length. An escape cut short by the end of data fails at len(data).
func jsEscapeLen(data []byte, i int) (int, jsFail) {
	if i+1 >= len(data) {
		return 0, jsErrAt(len(data), "unterminated string")
	}
	switch data[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, jsFail{}
	case 'u':
		for k := i + 2; k < i+6; k++ {
			if k >= len(data) {
				return 0, jsErrAt(len(data), "unterminated string")
			}
			if !jsIsHex(data[k]) {
				return 0, jsErrAt(i, "bad \\u escape")
			}
		}
		return 6, jsFail{}
	}
	return 0, jsErrAt(i, "bad escape")
}

func jsIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func jsIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// jsNumber validates the number starting at data[i] and returns the index
// just past it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. A number
// cut short by the end of data ("-", "1.", "1e+") fails at len(data).
func jsNumber(data []byte, i int) (int, jsFail) {
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
		return 0, jsNumberFail(data, start, i)
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !jsIsDigit(data[i]) {
			return 0, jsNumberFail(data, start, i)
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
			return 0, jsNumberFail(data, start, i)
		}
		for i++; i < len(data) && jsIsDigit(data[i]); i++ {
		}
	}
	return i, jsFail{}
}

// jsNumberFail is the failure of the number at data[start] that went
// wrong at i.
func jsNumberFail(data []byte, start, i int) jsFail {
	if i >= len(data) {
		return jsErrAt(len(data), "unexpected end of input")
	}
	return jsErrAt(start, "bad number")
}

// jsLiteral validates true, false or null at data[i]. A literal cut short
// by the end of data fails at len(data).
func jsLiteral(data []byte, i int) (int, jsFail) {
	var lit string
	switch data[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	default:
		lit = "null"
	}
	if len(data)-i < len(lit) {
		if string(data[i:]) == lit[:len(data)-i] {
			return 0, jsErrAt(len(data), "unexpected end of input")
		}
		return 0, jsErrAt(i, "bad literal")
	}
	if string(data[i:i+len(lit)]) != lit {
		return 0, jsErrAt(i, "bad literal")
	}
	return i + len(lit), jsFail{}
}

// jsStack is a stack of open containers, one bit each (1 = object): the
// first 64 in a word on the caller's stack, deeper ones in a slice.
type jsStack struct {
	n    int
	low  uint64
	deep []uint64
}

func (s *jsStack) push(object bool) {
	if s.n >= 64 {
		s.pushDeep(object)
		return
	}
	b := uint(s.n) & 63
	s.low = s.low&^(1<<b) | b2u(object)<<b
	s.n++
}

//go:noinline
func (s *jsStack) pushDeep(object bool) {
	w, b := s.n/64-1, uint(s.n%64)
	for len(s.deep) <= w {
		s.deep = append(s.deep, 0)
	}
	s.deep[w] = s.deep[w]&^(1<<b) | b2u(object)<<b
	s.n++
}

// top reports whether the innermost open container is an object.
func (s *jsStack) top() bool {
	k := s.n - 1
	if k < 64 {
		return s.low>>(uint(k)&63)&1 != 0
	}
	return s.deep[k/64-1]>>(k%64)&1 != 0
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// jsSkipValue validates the JSON value starting at data[i] (no leading
// whitespace) and returns the index just past it. depth is the nesting of
// the value's parent, for the depth limit. It is one loop over four
// states joined by gotos, with no call on the common paths: a value
// expected, a value ended, a member name expected, in a string.
func jsSkipValue(data []byte, i, depth int) (int, jsFail) {
	var stack jsStack
	obj := false  // the innermost open container is an object
	name := false // the string being read is a member name
	var fail jsFail
value:
	if i >= len(data) {
		return 0, jsErrAt(i, "unexpected end of input")
	}
	switch c := data[i]; c {
	case '"':
		name = false
		goto str
	case '{', '[':
		if depth+stack.n+1 > jsMaxDepth {
			return 0, jsErrAt(i, "nesting too deep")
		}
		obj = c == '{'
		stack.push(obj)
		if i = jsSpace(data, i+1); i < len(data) && data[i] == c+2 { // '}' or ']'
			i++
			stack.n--
			obj = stack.n > 0 && stack.top()
			break
		}
		if obj {
			goto key
		}
		goto value
	case 't', 'f', 'n':
		if i, fail = jsLiteral(data, i); fail.bad() {
			return 0, fail
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if i, fail = jsNumber(data, i); fail.bad() {
			return 0, fail
		}
	default:
		return 0, jsErrAt(i, "expected a value")
	}
after: // a value ended at i: close containers until one continues
	if stack.n == 0 {
		return i, jsFail{}
	}
	if i = jsSpace(data, i); i >= len(data) {
		return 0, jsErrAt(i, "unexpected end of input")
	}
	switch c := data[i]; {
	case c == ',':
		i = jsSpace(data, i+1)
		if obj {
			goto key
		}
		goto value
	case obj && c == '}', !obj && c == ']':
		i++
		stack.n--
		obj = stack.n > 0 && stack.top()
		goto after
	}
	return 0, jsErrAt(i, "expected ',' or a closing bracket")
key: // `"name" :` is expected at i
	if i >= len(data) || data[i] != '"' {
		return 0, jsErrAt(i, "expected member name")
	}
	name = true
str: // in the string whose opening quote is data[i]; see jsSkipString
	for i++; ; {
		if i+8 <= len(data) {
			m := jsStrMask(swarLoad(data, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(data) && !jsStrStop[data[i]] {
				i++
			}
			if i >= len(data) {
				return 0, jsErrAt(i, "unterminated string")
			}
		}
		if c := data[i]; c == '"' {
			i++
			break
		} else if c != '\\' {
			return 0, jsErrAt(i, "control character in string")
		}
		n := 0
		if n, fail = jsEscapeLen(data, i); fail.bad() {
			return 0, fail
		}
		i += n
	}
	if !name {
		goto after
	}
	if i = jsSpace(data, i); i >= len(data) || data[i] != ':' {
		return 0, jsErrAt(i, "expected ':'")
	}
	i = jsSpace(data, i+1)
	goto value
}

// jsSkipString validates the string starting at data[i] (a quote) and
// returns the index just past its closing quote. String bodies are read
// eight bytes at a time (see jsStrMask).
func jsSkipString(data []byte, i int) (int, jsFail) {
	for i++; ; {
		if i+8 <= len(data) {
			m := jsStrMask(swarLoad(data, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(data) && !jsStrStop[data[i]] {
				i++
			}
			if i >= len(data) {
				return 0, jsErrAt(i, "unterminated string")
			}
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, jsFail{}
		case c == '\\':
			n, fail := jsEscapeLen(data, i)
			if fail.bad() {
				return 0, fail
			}
			i += n
		default:
			return 0, jsErrAt(i, "control character in string")
		}
	}
}
