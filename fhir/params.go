package fhir

import (
	"strings"
)

// ParseParams parses a raw (still percent-encoded) URL query string into
// search parameters, in order. Each key=value pair becomes one Param, so a
// repeated key (an AND) gives several Params; a value's comma-separated
// alternatives (an OR) become Values, with the FHIR escapes \, \$ \| \\
// undone. Percent-decoding follows form encoding ("+" is a space). An empty
// pair (a stray "&") is skipped. Invalid percent-encoding, a NUL, a control
// character in a key, an empty name, or a malformed chain, _has, _include
// or _revinclude gives an error matching ErrInvalidQuery.
func ParseParams(rawQuery string) ([]Param, error) {
	return parseParams(rawQuery, false)
}

// ParseFormParams parses an application/x-www-form-urlencoded body (the
// parameters of POST _search) like ParseParams, marking each Param
// FromBody.
func ParseFormParams(body string) ([]Param, error) {
	return parseParams(body, true)
}

func parseParams(q string, fromBody bool) ([]Param, error) {
	if q == "" {
		return nil, nil
	}
	pairs, commas := 1, 0
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '&':
			pairs++
		case ',':
			commas++
		case '%':
			if i+2 < len(q) && q[i+1] == '2' && (q[i+2] == 'C' || q[i+2] == 'c') {
				commas++
			}
		}
	}
	params := make([]Param, 0, pairs)
	// One backing array for every Param's Values.
	vals := make([]string, 0, pairs+commas)
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, ok := unescapeQuery(rawKey)
		if !ok {
			return nil, classifyErr(ErrInvalidQuery, "invalid percent-encoding in a parameter name")
		}
		val, ok := unescapeQuery(rawVal)
		if !ok {
			return nil, classifyErr(ErrInvalidQuery, "invalid percent-encoding in a parameter value")
		}
		if hasCtl(key) {
			return nil, classifyErr(ErrInvalidQuery, "control character in a parameter name")
		}
		if strings.IndexByte(val, 0) >= 0 {
			return nil, classifyErr(ErrInvalidQuery, "NUL in a parameter value")
		}
		p := Param{Key: key, FromBody: fromBody}
		if err := parseKey(&p, key); err != nil {
			return nil, err
		}
		start := len(vals)
		vals = splitValues(val, vals)
		p.Values = vals[start:len(vals):len(vals)]
		if p.Name == "_include" || p.Name == "_revinclude" {
			for _, v := range p.Values {
				if _, ok := parseInclude(v); !ok {
					return nil, classifyErr(ErrInvalidQuery, "malformed "+p.Name)
				}
			}
		}
		params = append(params, p)
	}
	return params, nil
}

// parseKey splits a parameter name into Name, Modifier, Chain, Has and
// HasParam.
func parseKey(p *Param, key string) error {
	if rest, ok := strings.CutPrefix(key, "_has:"); ok {
		p.Name = "_has"
		for {
			var t, ref string
			var ok bool
			t, rest, ok = strings.Cut(rest, ":")
			if !ok || !IsResourceType(t) {
				return classifyErr(ErrInvalidQuery, "malformed _has")
			}
			ref, rest, ok = strings.Cut(rest, ":")
			if !ok || !isParamName(ref) {
				return classifyErr(ErrInvalidQuery, "malformed _has")
			}
			p.Has = append(p.Has, HasLink{Type: t, Reference: ref})
			next, nested := strings.CutPrefix(rest, "_has:")
			if !nested {
				break
			}
			rest = next
		}
		name, mod, hasMod := strings.Cut(rest, ":")
		if !isParamName(name) || name == "_has" || hasMod && mod == "" {
			return classifyErr(ErrInvalidQuery, "malformed _has")
		}
		p.HasParam, p.Modifier = name, mod
		return nil
	}
	head, chain, chained := strings.Cut(key, ".")
	name, mod, hasMod := strings.Cut(head, ":")
	if !isParamName(name) || hasMod && mod == "" {
		return classifyErr(ErrInvalidQuery, "malformed parameter name")
	}
	if name == "_has" {
		return classifyErr(ErrInvalidQuery, "malformed _has")
	}
	p.Name, p.Modifier = name, mod
	if !chained {
		return nil
	}
	n := strings.Count(chain, ".") + 1
	p.Chain = make([]string, 0, n)
	for link := range strings.SplitSeq(chain, ".") {
		lname, ltype, typed := strings.Cut(link, ":")
		if !isParamName(lname) || typed && !IsResourceType(ltype) {
			return classifyErr(ErrInvalidQuery, "malformed chained parameter")
		}
		p.Chain = append(p.Chain, link)
	}
	return nil
}

// isParamName reports whether s can be a search parameter code: non-empty,
// with no separator or space in it.
func isParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f, c == ':', c == '.', c == '=', c == '&':
			return false
		}
	}
	return true
}

// splitValues appends the comma-separated alternatives of v to dst, undoing
// the FHIR escapes \, \$ \| and \\.
func splitValues(v string, dst []string) []string {
	if strings.IndexByte(v, '\\') < 0 {
		for {
			part, rest, more := strings.Cut(v, ",")
			dst = append(dst, part)
			if !more {
				return dst
			}
			v = rest
		}
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && strings.IndexByte(`,$|\`, v[i+1]) >= 0:
			i++
			b.WriteByte(v[i])
		case c == ',':
			dst = append(dst, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(dst, b.String())
}

// include is a parsed _include or _revinclude value.
type include struct {
	Source, Param, Target string // Source "*" for a wildcard
}

// parseInclude parses "Type:param[:targetType]" or "*".
func parseInclude(v string) (include, bool) {
	if v == "*" {
		return include{Source: "*"}, true
	}
	src, rest, ok := strings.Cut(v, ":")
	if !ok || !IsResourceType(src) {
		return include{}, false
	}
	param, target, typed := strings.Cut(rest, ":")
	if param != "*" && !isParamName(param) || typed && !IsResourceType(target) {
		return include{}, false
	}
	return include{Source: src, Param: param, Target: target}, true
}

// unescapeQuery percent-decodes a query component, "+" meaning a space.
// It returns s itself (no copy) when there is nothing to decode.
func unescapeQuery(s string) (string, bool) {
	return unescape(s, true)
}

// unescapePath percent-decodes a path segment ("+" is itself).
func unescapePath(s string) (string, bool) {
	return unescape(s, false)
}

func unescape(s string, plusIsSpace bool) (string, bool) {
	n := 0
	plus := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			n++
			i += 2
		case '+':
			plus = plusIsSpace
		}
	}
	if n == 0 && !plus {
		return s, true
	}
	b := make([]byte, 0, len(s)-2*n)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && plusIsSpace:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// hasCtl reports whether s holds a control character (including NUL).
func hasCtl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
