package fhir

import "bytes"

// jsSkipValid returns the index just past the JSON value at data[i] (no
// leading whitespace), for data already known to be valid JSON: it only
// follows strings and brackets, finding string ends with a vectorised
// byte search, and checks nothing else.
func jsSkipValid(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			i, _ = jsStringEndValid(data, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth <= 0 {
				return i + 1
			}
		default:
			if depth == 0 { // a number or a literal
				for i < len(data) && !jsDelim[data[i]] {
					i++
				}
				return i
			}
		}
		i++
	}
	return i
}

// jsStringEndValid returns the index just past the valid string starting
// at data[i] (its opening quote); ok is false when it does not end.
func jsStringEndValid(data []byte, i int) (end int, ok bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return len(data), false
		}
		j += k
		n := 0 // backslashes right before the quote
		for p := j - 1; p > i && data[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

// jsDelim marks the bytes that end a number or literal.
var jsDelim = func() (t [256]bool) {
	for _, c := range []byte(" \t\r\n,]}:") {
		t[c] = true
	}
	return t
}()

// jsScanObjectValid is jsScanObject for bytes already known to be one
// valid JSON object: it appends the members to dst without validating.
func jsScanObjectValid(data []byte, dst []jsMember) []jsMember {
	i := jsSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return dst
	}
	for i = jsSpace(data, i+1); i < len(data) && data[i] == '"'; {
		end, ok := jsStringEndValid(data, i)
		if !ok {
			return dst
		}
		m := jsMember{ks: i + 1, ke: end - 1}
		if bytes.IndexByte(data[m.ks:m.ke], '\\') >= 0 || !jsPlain(data[m.ks:m.ke]) {
			name, _ := jsString(data[i:end], "")
			m.decoded, m.name = true, name
		}
		i = jsSpace(data, end)
		if i < len(data) && data[i] == ':' {
			i = jsSpace(data, i+1)
		}
		m.vs = i
		i = jsSkipValid(data, i)
		m.ve = i
		dst = append(dst, m)
		if i = jsSpace(data, i); i < len(data) && data[i] == ',' {
			i = jsSpace(data, i+1)
		}
	}
	return dst
}
