package demo

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// errSyntax reports JSON that the scanner cannot walk.
var errSyntax = errors.New("demo: malformed JSON")

// member is one top-level member of a JSON object: its key and its value's
// bytes (a sub-slice of the object).
type member struct {
	key string
	val []byte
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// endString returns the index just after the string literal that starts at
// b[i], and whether it holds escapes.
func endString(b []byte, i int) (int, bool, error) {
	esc := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc, nil
		}
	}
	return 0, false, errSyntax
}

// endValue returns the index just after the JSON value that starts at b[i].
func endValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		j, _, err := endString(b, i)
		return j, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				k, _, err := endString(b, j)
				if err != nil {
					return 0, err
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	}
	j := i
	for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	if j == i {
		return 0, errSyntax
	}
	return j, nil
}

// unquote returns the Go string of a JSON string literal.
func unquote(lit []byte, esc bool) (string, error) {
	if !esc {
		return string(lit[1 : len(lit)-1]), nil
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", errSyntax
	}
	return s, nil
}

// splitObject returns the members of the JSON object b, in order. b must
// be valid JSON (checked by the caller).
func splitObject(b []byte) ([]member, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errSyntax
	}
	out := make([]member, 0, 16)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return nil, errSyntax
		}
		e, esc, err := endString(b, i)
		if err != nil {
			return nil, err
		}
		key, err := unquote(b[i:e], esc)
		if err != nil {
			return nil, err
		}
		i = skipSpace(b, e)
		if i >= len(b) || b[i] != ':' {
			return nil, errSyntax
		}
		i = skipSpace(b, i+1)
		e, err = endValue(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, member{key: key, val: b[i:e]})
		i = skipSpace(b, e)
		if i >= len(b) {
			return nil, errSyntax
		}
		if b[i] == '}' {
			return out, nil
		}
		if b[i] != ',' {
			return nil, errSyntax
		}
		i = skipSpace(b, i+1)
	}
	return nil, errSyntax
}

// compactRefs appends src (valid JSON) to dst without insignificant
// whitespace. Every Reference.reference string is replaced by what rewrite
// returns (when not nil and it reports true) and then passed to seen (when
// not nil). Everything else is copied byte for byte.
func compactRefs(dst, src []byte, rewrite func(string) (string, bool), seen func(string)) ([]byte, error) {
	refNext := false // the previous token was the key "reference" and its colon
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case isSpace(c):
			continue
		case c == '"':
			e, esc, err := endString(src, i)
			if err != nil {
				return nil, err
			}
			lit := src[i:e]
			j := skipSpace(src, e)
			if j < len(src) && src[j] == ':' { // a key
				dst = append(dst, lit...)
				dst = append(dst, ':')
				refNext = string(lit) == `"reference"`
				i = j
				continue
			}
			if refNext && (seen != nil || rewrite != nil) {
				ref, err := unquote(lit, esc)
				if err != nil {
					return nil, err
				}
				if rewrite != nil {
					if to, ok := rewrite(ref); ok {
						if seen != nil {
							seen(to)
						}
						dst = appendString(dst, to)
						refNext = false
						i = e - 1
						continue
					}
				}
				if seen != nil {
					seen(ref)
				}
			}
			dst = append(dst, lit...)
			refNext = false
			i = e - 1
		default:
			dst = append(dst, c)
			refNext = false
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string literal (no HTML escaping;
// invalid UTF-8 becomes U+FFFD).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// instantLayout is the FHIR instant form the server emits.
const instantLayout = "2006-01-02T15:04:05.000Z07:00"

func appendInstant(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, instantLayout)
}

// stamp appends the stored form of a resource: resourceType, id and meta
// (with versionId and lastUpdated set, other meta members kept) first, then
// the other members in their original order. Member values must be compact.
func stamp(dst []byte, typ, id string, members []member, vid int, updated time.Time) ([]byte, error) {
	dst = append(dst, `{"resourceType":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"id":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"meta":{"versionId":"`...)
	dst = strconv.AppendInt(dst, int64(vid), 10)
	dst = append(dst, `","lastUpdated":"`...)
	dst = appendInstant(dst, updated)
	dst = append(dst, '"')
	for _, m := range members {
		if m.key != "meta" {
			continue
		}
		meta, err := splitObject(m.val)
		if err != nil {
			return nil, err
		}
		for _, mm := range meta {
			if mm.key == "versionId" || mm.key == "lastUpdated" {
				continue
			}
			dst = append(dst, ',')
			dst = appendString(dst, mm.key)
			dst = append(dst, ':')
			dst = append(dst, mm.val...)
		}
	}
	dst = append(dst, '}')
	for _, m := range members {
		switch m.key {
		case "resourceType", "id", "meta":
			continue
		}
		dst = append(dst, ',')
		dst = appendString(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, m.val...)
	}
	return append(dst, '}'), nil
}
