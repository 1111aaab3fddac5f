package stream

import (
	"encoding/binary"
	"math/bits"
)

// String bodies are read eight bytes at a time: a word's bytes are in
// memory order from its least significant byte (little-endian loads), so
// the lowest flagged byte of a mask is the first match.

const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// strMask flags (high bit) the bytes of w that end a run of plain string
// content: '"', '\\' and the control characters below 0x20. Bytes above
// the first flagged one may be flagged wrongly; the first one is exact.
func strMask(w uint64) uint64 {
	// w^0x02 maps '"' (0x22) to 0x20 and keeps the control characters
	// below 0x20 while moving 0x20 and 0x21 above it: one test finds both.
	q := w ^ (swarOnes * 0x02)
	b := w ^ (swarOnes * '\\')
	return ((q-swarOnes*0x21)&^q | (b-swarOnes)&^b) & swarHighs
}

// stringStop returns the index of the first '"', '\\' or control
// character at or after i, or len(p).
func stringStop(p []byte, i int) int {
	for ; i+8 <= len(p); i += 8 {
		if m := strMask(binary.LittleEndian.Uint64(p[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(p); i++ {
		if strStop[p[i]] {
			return i
		}
	}
	return i
}
