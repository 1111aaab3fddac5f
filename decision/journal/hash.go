package journal

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
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
	h := sha256.New()
	writeString(h, hashDomain)
	writeString(h, e.Chain)
	writeUint(h, e.Seq)
	writeString(h, string(e.Kind))
	writeString(h, e.RecordID)
	writeUint(h, uint64(e.At.UnixMicro()))
	writeString(h, e.PrevHash)
	writeUint(h, uint64(len(e.Payload)))
	h.Write(e.Payload)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

func writeUint(h hash.Hash, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

func writeString(h hash.Hash, s string) {
	writeUint(h, uint64(len(s)))
	h.Write([]byte(s))
}
