package journal

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/ehigate/ehigate/decision"
)

// Genesis is the previous hash of a chain's first entry.
var Genesis = strings.Repeat("0", 64)

// hashDomain separates journal hashes from any other SHA-256 use; it
// changes whenever the hashed encoding changes.
const hashDomain = "ehigate-journal-v1"

// Hash returns the hex SHA-256 of an entry: a length-prefixed encoding of
// its domain, chain, sequence number, kind, record id, time (Unix
// microseconds), previous hash and payload bytes. The encoding is byte
// stable and golden-tested; changing it is a schema change.
func Hash(e *decision.Entry) string {
	sum := hashSum(e)
	return hex.EncodeToString(sum[:])
}

// HashMatches reports whether e.Hash is the hash of e, without
// allocating (verification calls it for every entry).
func HashMatches(e *decision.Entry) bool {
	sum := hashSum(e)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return string(hx[:]) == e.Hash
}

func hashSum(e *decision.Entry) [sha256.Size]byte {
	var buf [256]byte
	b := appendString(buf[:0], hashDomain)
	b = appendString(b, e.Chain)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = appendString(b, string(e.Kind))
	b = appendString(b, e.RecordID)
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	b = appendString(b, e.PrevHash)
	b = binary.BigEndian.AppendUint64(b, uint64(len(e.Payload)))
	h := sha256.New()
	h.Write(b)
	h.Write(e.Payload)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}
