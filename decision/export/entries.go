package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// entryLine is one line of entries.ndjson: a journal entry with its
// payload as JSON, byte for byte as hashed (or, for a payload that is not
// compact JSON, in base64), so that its hash can be recomputed.
type entryLine struct {
	Chain         string             `json:"chain"`
	Seq           uint64             `json:"seq"`
	Kind          decision.EntryKind `json:"kind"`
	RecordID      string             `json:"record_id,omitempty"`
	At            time.Time          `json:"at"`
	Payload       json.RawMessage    `json:"payload,omitempty"`
	PayloadBase64 []byte             `json:"payload_base64,omitempty"`
	PrevHash      string             `json:"prev_hash"`
	Hash          string             `json:"hash"`
}

// entryWriter writes entries.ndjson lines.
type entryWriter struct {
	enc     *json.Encoder
	compact bytes.Buffer
	n       int
}

func newEntryWriter(w io.Writer) *entryWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &entryWriter{enc: enc}
}

func (ew *entryWriter) write(e decision.Entry) error {
	l := entryLine{Chain: e.Chain, Seq: e.Seq, Kind: e.Kind, RecordID: e.RecordID, At: e.At, PrevHash: e.PrevHash, Hash: e.Hash}
	// The encoder copies a compact RawMessage unchanged (HTML escaping
	// is off); anything else would change, so it goes as base64.
	ew.compact.Reset()
	if json.Compact(&ew.compact, e.Payload) == nil && bytes.Equal(ew.compact.Bytes(), e.Payload) && len(e.Payload) > 0 {
		l.Payload = e.Payload
	} else {
		l.PayloadBase64 = e.Payload
		if l.PayloadBase64 == nil {
			l.PayloadBase64 = []byte{}
		}
	}
	if err := ew.enc.Encode(&l); err != nil {
		return fmt.Errorf("export: entry %s/%d: %w", e.Chain, e.Seq, err)
	}
	ew.n++
	return nil
}

// entry returns the journal entry of a line.
func (l *entryLine) entry() decision.Entry {
	p := []byte(l.Payload)
	if l.PayloadBase64 != nil {
		p = l.PayloadBase64
	}
	return decision.Entry{Chain: l.Chain, Seq: l.Seq, Kind: l.Kind, RecordID: l.RecordID, At: l.At, Payload: p, PrevHash: l.PrevHash, Hash: l.Hash}
}

// readEntries calls fn for each line of entries.ndjson, stopping at fn's
// error. fn must not keep the entry's payload past the call unless it
// copies it.
func readEntries(r io.Reader, fn func(decision.Entry) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var l entryLine
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("%w: %s line %d: %v", ErrFormat, FileEntries, line, err)
		}
		if err := fn(l.entry()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, FileEntries, err)
	}
	return nil
}
