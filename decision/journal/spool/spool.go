package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ehigate/ehigate/decision"
)

// ErrLocked: another process holds the spool folder.
var ErrLocked = errors.New("spool: folder is in use by another process")

const (
	magic  = "EHSPOOL1"
	suffix = ".spool"
	// segmentSize is the size past which a new segment file is started,
	// so that replayed segments can be removed while spooling goes on.
	segmentSize = 64 << 20
)

// Spool is an open spool folder. It is safe for concurrent use by one
// appender and one replayer.
type Spool struct {
	dir  string
	lock *os.File

	mu      sync.Mutex
	segs    []*segment // oldest first; the last one is appended to
	active  *os.File   // open for append on segs[len-1], or nil
	depth   int        // entries spooled and not yet replayed
	records int        // records spooled and not yet replayed
	last    decision.Entry
	hasLast bool
	next    int // number of the next segment file
	buf     []byte
}

// segment is one file; [read, size) holds records not yet replayed.
type segment struct {
	num        int
	path       string
	size, read int64
}

// Recovery says what Open found.
type Recovery struct {
	// Records and Entries waiting to be replayed.
	Records, Entries int
	// DroppedBytes were cut from the end of the last segment: a record
	// whose write a crash interrupted (it was never acknowledged).
	DroppedBytes int64
}

// Open opens (creating with mode 0700) the spool folder dir, locks it,
// and checks every segment. A torn record at the very end is dropped.
func Open(dir string) (*Spool, Recovery, error) {
	var rec Recovery
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, rec, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, rec, err
	}
	s := &Spool{dir: dir, lock: lock}
	names, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		lock.Close()
		return nil, rec, fmt.Errorf("spool: %w", err)
	}
	for _, name := range names {
		n, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(name), suffix))
		if err != nil {
			continue
		}
		s.segs = append(s.segs, &segment{num: n, path: name})
	}
	slices.SortFunc(s.segs, func(a, b *segment) int { return a.num - b.num })
	for i, seg := range s.segs {
		dropped, err := s.scan(seg, i == len(s.segs)-1)
		if err != nil {
			lock.Close()
			return nil, rec, err
		}
		rec.DroppedBytes += dropped
		s.next = seg.num + 1
	}
	// Empty segments hold nothing to replay.
	s.segs = slices.DeleteFunc(s.segs, func(seg *segment) bool {
		if seg.size <= int64(len(magic)) {
			os.Remove(seg.path)
			return true
		}
		return false
	})
	rec.Records, rec.Entries = s.records, s.depth
	return s, rec, nil
}

// scan validates a segment, counting its records. In the last segment a
// torn record at the end is truncated away.
func (s *Spool) scan(seg *segment, last bool) (dropped int64, err error) {
	data, err := os.ReadFile(seg.path)
	if err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		if last && len(data) < len(magic) && strings.HasPrefix(magic, string(data)) {
			seg.size = 0
			return int64(len(data)), nil
		}
		return 0, fmt.Errorf("%w: %s: not a spool segment", ErrCorrupt, seg.path)
	}
	off := int64(len(magic))
	seg.read = off
	for off < int64(len(data)) {
		body, n, ferr := frameAt(data, off)
		var r Record
		if ferr == nil {
			r, ferr = decodeBody(body)
		}
		if ferr != nil {
			if last && torn(data, off) {
				if err := truncate(seg.path, off); err != nil {
					return 0, err
				}
				seg.size = off
				return int64(len(data)) - off, nil
			}
			return 0, fmt.Errorf("%w: %s at offset %d: %v", ErrCorrupt, seg.path, off, ferr)
		}
		s.count(&r, 1)
		off += n
	}
	seg.size = off
	return 0, nil
}

// frameAt returns the body of the framed record at off and the frame's
// total length.
func frameAt(data []byte, off int64) ([]byte, int64, error) {
	rest := data[off:]
	if len(rest) < frameHeader {
		return nil, 0, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	n := int64(binary.BigEndian.Uint32(rest))
	if n > maxBody || n > int64(len(rest)-frameHeader) {
		return nil, 0, fmt.Errorf("%w: length %d beyond the end", ErrCorrupt, n)
	}
	body := rest[frameHeader : frameHeader+n]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(rest[4:]) {
		return nil, 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return body, frameHeader + n, nil
}

// torn reports whether the bad record at off can only be an interrupted
// final write: its frame reaches the end of the file, or everything from
// off on is zero (space allocated but never written).
func torn(data []byte, off int64) bool {
	rest := data[off:]
	if len(rest) < frameHeader {
		return true
	}
	if int64(binary.BigEndian.Uint32(rest)) >= int64(len(rest)-frameHeader) {
		return true
	}
	for _, c := range rest {
		if c != 0 {
			return false
		}
	}
	return true
}

func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// count adds (sign 1) or removes (sign -1) a record from the pending
// totals, remembering the last entry appended.
func (s *Spool) count(r *Record, sign int) {
	s.records += sign
	s.depth += sign * len(r.Items)
	if sign > 0 && len(r.Items) > 0 {
		s.last, s.hasLast = r.Items[len(r.Items)-1].Entry, true
	}
}

// Depth returns how many entries wait to be replayed.
func (s *Spool) Depth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.depth
}

// Pending returns how many records (entries and checkpoints) wait to be
// replayed.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records
}

// Last returns the last entry ever appended to the spool since it was
// opened (or found in it), if any.
func (s *Spool) Last() (decision.Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.hasLast
}

// Append writes r and fsyncs it; when Append returns nil, r survives a
// crash.
func (s *Spool) Append(r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	s.buf, err = appendFrame(s.buf[:0], &r)
	if err != nil {
		return err
	}
	if err := s.ensureActive(int64(len(s.buf))); err != nil {
		return err
	}
	seg := s.segs[len(s.segs)-1]
	if _, err := s.active.Write(s.buf); err != nil {
		// Cut back whatever part was written so that the segment stays
		// well formed; the record is not acknowledged.
		s.active.Truncate(seg.size)
		return fmt.Errorf("spool: write: %w", err)
	}
	if err := s.active.Sync(); err != nil {
		s.active.Truncate(seg.size)
		return fmt.Errorf("spool: fsync: %w", err)
	}
	seg.size += int64(len(s.buf))
	s.count(&r, 1)
	if cap(s.buf) > 4<<20 {
		s.buf = nil
	}
	return nil
}

// ensureActive opens the segment to append n bytes to, starting a new
// one when there is none or the current one is full.
func (s *Spool) ensureActive(n int64) error {
	if s.active != nil {
		seg := s.segs[len(s.segs)-1]
		if seg.size+n <= segmentSize || seg.size == int64(len(magic)) {
			return nil
		}
		if err := s.active.Close(); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.active = nil
	}
	if len(s.segs) > 0 && s.active == nil {
		// Continue the last segment found at Open if it has room.
		seg := s.segs[len(s.segs)-1]
		if seg.size+n <= segmentSize {
			f, err := os.OpenFile(seg.path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			s.active = f
			return nil
		}
	}
	seg := &segment{num: s.next, path: filepath.Join(s.dir, fmt.Sprintf("%010d%s", s.next, suffix))}
	f, err := os.OpenFile(seg.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := f.WriteString(magic); err != nil {
		f.Close()
		os.Remove(seg.path)
		return fmt.Errorf("spool: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(seg.path)
		return err
	}
	s.next++
	seg.size, seg.read = int64(len(magic)), int64(len(magic))
	s.segs = append(s.segs, seg)
	s.active = f
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: fsync folder: %w", err)
	}
	return nil
}

// Close closes the spool and releases its lock. Records not replayed stay
// in the folder for the next Open.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.active != nil {
		errs = append(errs, s.active.Close())
		s.active = nil
	}
	errs = append(errs, s.lock.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spool: close: %w", err)
	}
	return nil
}
