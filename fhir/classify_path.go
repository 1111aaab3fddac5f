package fhir

import "strings"

// maxSegments is the longest path of the REST grammar:
// Type/id/_history/vid/$op.
const maxSegments = 5

// pathSegs holds the decoded segments of a path without allocating for
// them when nothing was escaped.
type pathSegs struct {
	n int
	s [maxSegments]string
}

// splitPath splits an escaped path relative to the base into decoded
// segments, rejecting what would let two spellings of a path differ:
// empty segments, "." and "..", raw or encoded "/" and "\" inside a segment,
// control characters and invalid percent-encoding.
func splitPath(p string) (pathSegs, error) {
	var segs pathSegs
	if p == "" {
		return segs, nil
	}
	for {
		raw, rest, more := strings.Cut(p, "/")
		if segs.n == maxSegments {
			return segs, classifyErr(ErrMalformedPath, "too many segments")
		}
		seg, err := pathSegment(raw)
		if err != nil {
			return segs, err
		}
		segs.s[segs.n] = seg
		segs.n++
		if !more {
			return segs, nil
		}
		p = rest
	}
}

// pathSegment validates and decodes one raw segment.
func pathSegment(raw string) (string, error) {
	if raw == "" {
		return "", classifyErr(ErrMalformedPath, "empty segment")
	}
	seg, ok := unescapePath(raw)
	if !ok {
		return "", classifyErr(ErrMalformedPath, "invalid percent-encoding")
	}
	if seg == "." || seg == ".." {
		return "", classifyErr(ErrMalformedPath, "dot segment")
	}
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; {
		case c < 0x20 || c == 0x7f:
			return "", classifyErr(ErrMalformedPath, "control character")
		case c == '/' || c == '\\':
			return "", classifyErr(ErrMalformedPath, "slash inside a segment")
		}
	}
	return seg, nil
}
