package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Replay calls fn with the records not yet replayed, oldest first, a
// group at a time: consecutive records of one segment holding at most
// maxEntries entries (a record larger than that comes alone). A group for
// which fn returns nil is done: it is not offered again, and fully
// replayed segments other than the one being appended to are removed.
// Replay stops at fn's first error and returns it; it returns nil once it
// has replayed every record spooled before it was called (records
// appended meanwhile wait for the next call).
func (s *Spool) Replay(maxEntries int, fn func([]Record) error) error {
	s.mu.Lock()
	endNum, endSize := -1, int64(0)
	if len(s.segs) > 0 {
		last := s.segs[len(s.segs)-1]
		endNum, endSize = last.num, last.size
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		var seg *segment
		for _, g := range s.segs {
			if g.read < g.size && g.num <= endNum {
				seg = g
				break
			}
		}
		if seg == nil {
			s.mu.Unlock()
			return nil
		}
		path, from, to := seg.path, seg.read, seg.size
		if seg.num == endNum {
			to = min(to, endSize)
		}
		if from >= to {
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		if err := s.replaySegment(seg, path, from, to, maxEntries, fn); err != nil {
			return err
		}
	}
}

func (s *Spool) replaySegment(seg *segment, path string, from, to int64, maxEntries int, fn func([]Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	data := make([]byte, to-from)
	if _, err := io.ReadFull(io.NewSectionReader(f, from, to-from), data); err != nil {
		return fmt.Errorf("spool: read %s: %w", path, err)
	}
	var off int64
	var group []Record
	for off < int64(len(data)) {
		group = group[:0]
		end, entries := off, 0
		for end < int64(len(data)) {
			body, n, err := frameAt(data, end)
			if err != nil {
				return fmt.Errorf("spool: %s at offset %d: %w", path, from+end, err)
			}
			r, err := decodeBody(body)
			if err != nil {
				return fmt.Errorf("spool: %s at offset %d: %w", path, from+end, err)
			}
			if len(group) > 0 && entries+len(r.Items) > maxEntries {
				break
			}
			group = append(group, r)
			entries += len(r.Items)
			end += n
		}
		if err := fn(group); err != nil {
			return err
		}
		off = end
		s.mu.Lock()
		seg.read = from + off
		for i := range group {
			s.count(&group[i], -1)
		}
		s.dropReplayed()
		s.mu.Unlock()
	}
	return nil
}

// dropReplayed removes fully replayed segments that are no longer
// appended to. It is called with s.mu held.
func (s *Spool) dropReplayed() {
	for len(s.segs) > 0 {
		seg := s.segs[0]
		if seg.read < seg.size || (len(s.segs) == 1 && s.active != nil) {
			return
		}
		if len(s.segs) == 1 {
			// The only segment, not open for append: remove it too.
			os.Remove(seg.path)
			s.segs = s.segs[:0]
			return
		}
		os.Remove(seg.path)
		s.segs = s.segs[1:]
	}
}

// Reset removes every segment once all are replayed; the next Append
// starts a new one. It reports whether the spool was empty (and so was
// reset); it never discards a record that waits for replay.
func (s *Spool) Reset() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records != 0 {
		return false, nil
	}
	var errs []error
	if s.active != nil {
		errs = append(errs, s.active.Close())
		s.active = nil
	}
	for _, seg := range s.segs {
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.segs = s.segs[:0]
	if err := errors.Join(errs...); err != nil {
		return true, fmt.Errorf("spool: reset: %w", err)
	}
	return true, nil
}
