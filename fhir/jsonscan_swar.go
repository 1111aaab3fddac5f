package fhir

import (
	"encoding/binary"
	"math/bits"
)

// The scanners' inner loops look at eight bytes at a time where JSON has
// long runs: string bodies and indentation. A word's bytes are in memory
// order from its least significant byte (little-endian loads), so the
// lowest flagged byte of a mask is the first match.

const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// swarLoad reads eight bytes from p[i:].
func swarLoad(p []byte, i int) uint64 { return binary.LittleEndian.Uint64(p[i:]) }

// jsStrMask flags (high bit) the bytes of w that end a run of plain string
// content: '"', '\\' and the control characters below 0x20. Bytes above
// the first flagged one may be flagged wrongly; the first one is exact.
func jsStrMask(w uint64) uint64 {
	// w^0x02 maps '"' (0x22) to 0x20 and keeps the control characters
	// below 0x20 while moving 0x20 and 0x21 above it: one test finds both.
	q := w ^ (swarOnes * 0x02)
	b := w ^ (swarOnes * '\\')
	return ((q-swarOnes*0x21)&^q | (b-swarOnes)&^b) & swarHighs
}

// jsPlainNameEnd returns the index just past the string at data[i] (its
// quote) when its body is plain ASCII (no escape, no control character,
// no byte above 0x7f), as member names nearly always are, and 0 otherwise
// (read it with jsSkipString).
func jsPlainNameEnd(data []byte, i int) int {
	for i++; ; {
		if i+8 <= len(data) {
			w := swarLoad(data, i)
			m := jsStrMask(w) | w&swarHighs
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(data) && !jsStrStop[data[i]] && data[i] < 0x80 {
				i++
			}
		}
		if i < len(data) && data[i] == '"' {
			return i + 1
		}
		return 0
	}
}

// jsStrStop marks the bytes that jsStrMask flags.
var jsStrStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// jsSpace returns the index of the first byte at or after i that is not
// JSON whitespace. It is inlined where called; compact JSON, which has no
// whitespace, costs one comparison.
func jsSpace(data []byte, i int) int {
	if i < len(data) && data[i] > ' ' {
		return i
	}
	return jsSkipSpace(data, i)
}

// jsSkipSpace is jsSpace's loop. Runs of spaces (indentation) are skipped
// eight bytes at a time. It is kept out of line so that jsSpace inlines.
//
//go:noinline
func jsSkipSpace(data []byte, i int) int {
	if i+1 < len(data) && data[i] == ' ' && data[i+1] > ' ' {
		return i + 1 // the space after a colon in indented JSON
	}
	for i < len(data) {
		if c := data[i]; c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return i
		}
		// Whitespace, typically a newline then indentation.
		for i++; i+8 <= len(data); i += 8 {
			if x := swarLoad(data, i) ^ (swarOnes * ' '); x != 0 {
				i += bits.TrailingZeros64(x) >> 3
				break
			}
		}
	}
	return i
}
