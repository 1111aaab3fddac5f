package spool

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

// Record is one spooled write: the items of one group commit, or one
// checkpoint.
type Record struct {
	Items      []store.Item
	Checkpoint *store.Checkpoint
}

// Entries returns how many journal entries r holds.
func (r *Record) Entries() int { return len(r.Items) }

// ErrCorrupt: a spool record does not decode or fails its checksum.
var ErrCorrupt = errors.New("spool: corrupt record")

const (
	typeItems      = 1
	typeCheckpoint = 2
	frameHeader    = 8
	// maxBody bounds one record so that a damaged length cannot make the
	// reader allocate without limit.
	maxBody = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends r, framed, to b.
func appendFrame(b []byte, r *Record) ([]byte, error) {
	start := len(b)
	b = append(b, make([]byte, frameHeader)...)
	var err error
	if b, err = appendBody(b, r); err != nil {
		return b[:start], err
	}
	body := b[start+frameHeader:]
	if len(body) > maxBody {
		return b[:start], fmt.Errorf("spool: record of %d bytes is too large", len(body))
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(body)))
	binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(body, castagnoli))
	return b, nil
}

func appendBody(b []byte, r *Record) ([]byte, error) {
	if r.Checkpoint != nil {
		j, err := json.Marshal(r.Checkpoint)
		if err != nil {
			return b, fmt.Errorf("spool: %w", err)
		}
		return append(append(b, typeCheckpoint), j...), nil
	}
	b = append(b, typeItems)
	b = binary.AppendUvarint(b, uint64(len(r.Items)))
	for i := range r.Items {
		e := &r.Items[i].Entry
		b = appendString(b, e.Chain)
		b = binary.AppendUvarint(b, e.Seq)
		b = appendString(b, string(e.Kind))
		b = appendString(b, e.RecordID)
		b = binary.AppendVarint(b, e.At.UnixMicro())
		b = appendBytes(b, e.Payload)
		b = appendString(b, e.PrevHash)
		b = appendString(b, e.Hash)
		var doc []byte
		if r.Items[i].Record != nil {
			var err error
			if doc, err = r.Items[i].DocJSON(); err != nil {
				return b, fmt.Errorf("spool: %w", err)
			}
		}
		b = appendBytes(b, doc)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decodeBody decodes one record body.
func decodeBody(body []byte) (Record, error) {
	var r Record
	if len(body) == 0 {
		return r, ErrCorrupt
	}
	d := decoder{b: body[1:]}
	switch body[0] {
	case typeCheckpoint:
		var cp store.Checkpoint
		if err := json.Unmarshal(d.b, &cp); err != nil {
			return r, fmt.Errorf("%w: checkpoint: %v", ErrCorrupt, err)
		}
		r.Checkpoint = &cp
		return r, nil
	case typeItems:
	default:
		return r, fmt.Errorf("%w: record type %d", ErrCorrupt, body[0])
	}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		return r, ErrCorrupt
	}
	r.Items = make([]store.Item, 0, n)
	for range n {
		var it store.Item
		e := &it.Entry
		e.Chain = d.string()
		e.Seq = d.uvarint()
		e.Kind = decision.EntryKind(d.string())
		e.RecordID = d.string()
		e.At = time.UnixMicro(d.varint()).UTC()
		e.Payload = d.bytes()
		e.PrevHash = d.string()
		e.Hash = d.string()
		if doc := d.bytes(); len(doc) > 0 && d.err == nil {
			it.Record = new(decision.Record)
			if err := json.Unmarshal(doc, it.Record); err != nil {
				return r, fmt.Errorf("%w: record projection: %v", ErrCorrupt, err)
			}
		}
		if d.err != nil {
			return r, d.err
		}
		r.Items = append(r.Items, it)
	}
	if len(d.b) != 0 {
		return r, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return r, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = ErrCorrupt
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }
