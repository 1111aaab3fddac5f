package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
)

func items(chain string, from uint64, n int) []store.Item {
	var out []store.Item
	for i := range n {
		seq := from + uint64(i)
		id := fmt.Sprintf("r%d", seq)
		rec := &decision.Record{ID: id, Schema: decision.SchemaV1, ReceivedAt: time.Unix(1700000000, int64(seq)*1000).UTC(), Action: decision.Deny, Patients: []string{"p1"}}
		out = append(out, store.Item{
			Entry: decision.Entry{Chain: chain, Seq: seq, Kind: decision.KindDecision, RecordID: id, At: rec.ReceivedAt,
				Payload: []byte(`{"id":"` + id + `"}`), PrevHash: "prev", Hash: fmt.Sprintf("h%d", seq)},
			Record: rec,
		})
	}
	return out
}

func openSpool(t *testing.T, dir string) (*Spool, Recovery) {
	t.Helper()
	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, rec
}

func replayAll(t *testing.T, s *Spool) []Record {
	t.Helper()
	var got []Record
	if err := s.Replay(1, func(rs []Record) error { got = append(got, rs...); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAppendReplayRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir)
	want := []Record{
		{Items: items("c", 1, 3)},
		{Checkpoint: &store.Checkpoint{Chain: "c", Seq: 3, Hash: "h3", At: time.Unix(5, 0).UTC(), Sealed: true, KeyID: "k", Signature: "s"}},
		{Items: items("c", 4, 1)},
	}
	for _, r := range want {
		if err := s.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if d, p := s.Depth(), s.Pending(); d != 4 || p != 3 {
		t.Fatalf("depth %d pending %d, want 4 and 3", d, p)
	}
	if last, ok := s.Last(); !ok || last.Seq != 4 {
		t.Fatalf("last = %+v %v", last, ok)
	}
	got := replayAll(t, s)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("replayed\n%+v\nwant\n%+v", got, want)
	}
	if s.Depth() != 0 || len(replayAll(t, s)) != 0 {
		t.Fatal("records offered twice")
	}
	if ok, err := s.Reset(); !ok || err != nil {
		t.Fatalf("reset: %v %v", ok, err)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*"+suffix)); len(names) != 0 {
		t.Fatalf("segments left after reset: %v", names)
	}
}

func TestReopenKeepsUnreplayed(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir)
	for i := range 5 {
		if err := s.Append(Record{Items: items("c", uint64(1+2*i), 2)}); err != nil {
			t.Fatal(err)
		}
	}
	// Replay two records, then "crash".
	n := 0
	stop := errors.New("stop")
	if err := s.Replay(2, func(rs []Record) error {
		if n == 2 {
			return stop
		}
		n += len(rs)
		return nil
	}); !errors.Is(err, stop) {
		t.Fatal(err)
	}
	s.Close()
	s2, rec := openSpool(t, dir)
	// Records replayed before the crash are offered again (the replayer
	// skips what the store already has); none is lost.
	if rec.Records != 5 || rec.Entries != 10 {
		t.Fatalf("recovery = %+v", rec)
	}
	if last, _ := s2.Last(); last.Seq != 10 {
		t.Fatalf("last seq %d", last.Seq)
	}
	if got := replayAll(t, s2); len(got) != 5 || got[4].Items[1].Entry.Seq != 10 {
		t.Fatalf("replayed %d records", len(got))
	}
	// Appending after reopen continues in order.
	if err := s2.Append(Record{Items: items("c", 11, 1)}); err != nil {
		t.Fatal(err)
	}
	if got := replayAll(t, s2); len(got) != 1 || got[0].Items[0].Entry.Seq != 11 {
		t.Fatalf("after reopen: %+v", got)
	}
}

func TestFileModesAndLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s, _ := openSpool(t, dir)
	if err := s.Append(Record{Items: items("c", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range append(names, dir) {
		fi, err := os.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", n, fi.Mode().Perm())
		}
	}
	if _, _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

// segmentWith writes a segment holding the framed records then tail.
func segmentWith(t *testing.T, dir string, num int, tail []byte, recs ...Record) string {
	t.Helper()
	b := []byte(magic)
	for i := range recs {
		var err error
		if b, err = appendFrame(b, &recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	b = append(b, tail...)
	path := filepath.Join(dir, fmt.Sprintf("%010d%s", num, suffix))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDamage(t *testing.T) {
	good := Record{Items: items("c", 1, 2)}
	frame, _ := appendFrame(nil, &Record{Items: items("c", 3, 1)})
	flipped := append([]byte(nil), frame...)
	flipped[len(flipped)-3] ^= 0xff
	tests := []struct {
		name        string
		tail        []byte
		nextSegment bool
		wantErr     error
		wantEntries int
		wantDropped int64
	}{
		{"clean", nil, false, nil, 2, 0},
		{"torn header", frame[:5], false, nil, 2, 5},
		{"torn body", frame[:len(frame)-4], false, nil, 2, int64(len(frame) - 4)},
		{"garbage last record", flipped, false, nil, 2, int64(len(flipped))},
		{"zeros", make([]byte, 100), false, nil, 2, 100},
		{"damage followed by data", append(append([]byte(nil), flipped...), frame...), false, ErrCorrupt, 0, 0},
		{"damage in an older segment", frame[:5], true, ErrCorrupt, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			segmentWith(t, dir, 1, tc.tail, good)
			if tc.nextSegment {
				segmentWith(t, dir, 2, nil, Record{Items: items("c", 4, 1)})
			}
			s, rec, err := Open(dir)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if rec.Entries != tc.wantEntries || rec.DroppedBytes != tc.wantDropped {
				t.Fatalf("recovery = %+v", rec)
			}
			// The spool goes on: a new record lands after the good ones.
			if err := s.Append(Record{Items: items("c", 3, 1)}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s2, rec2, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if rec2.Entries != tc.wantEntries+1 || rec2.DroppedBytes != 0 {
				t.Fatalf("after append and reopen: %+v", rec2)
			}
		})
	}
}

func TestReplayGroups(t *testing.T) {
	s, _ := openSpool(t, t.TempDir())
	for i := range 10 {
		if err := s.Append(Record{Items: items("c", uint64(1+3*i), 3)}); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	if err := s.Replay(7, func(rs []Record) error { sizes = append(sizes, len(rs)); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != "[2 2 2 2 2]" {
		t.Fatalf("groups of %v records, want groups of at most 7 entries", sizes)
	}
}

func TestSegmentRotationRemovesReplayed(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir)
	big := items("c", 1, 1)
	big[0].Entry.Payload = make([]byte, segmentSize/3)
	for i := range 7 {
		big[0].Entry.Seq = uint64(i + 1)
		if err := s.Append(Record{Items: big}); err != nil {
			t.Fatal(err)
		}
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if len(names) < 3 {
		t.Fatalf("%d segments for 7 records of a third of a segment", len(names))
	}
	if got := replayAll(t, s); len(got) != 7 {
		t.Fatalf("replayed %d", len(got))
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if len(left) != 1 {
		t.Fatalf("%d segments left after replay, want only the active one", len(left))
	}
}

// FuzzDecode feeds arbitrary segment bytes to Open: it must return a
// spool or an error, never panic, and whatever it accepts must replay.
func FuzzDecode(f *testing.F) {
	b, _ := appendFrame([]byte(magic), &Record{Items: items("c", 1, 2)})
	f.Add(b)
	b, _ = appendFrame(b, &Record{Checkpoint: &store.Checkpoint{Chain: "c", Seq: 2, Hash: "h"}})
	f.Add(b)
	f.Add([]byte(magic))
	f.Add(append([]byte(magic), 0, 0, 0, 3, 1, 2, 3, 4, 1, 1, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "0000000001"+suffix), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, rec, err := Open(dir)
		if err != nil {
			return
		}
		defer s.Close()
		n := 0
		if err := s.Replay(100, func(rs []Record) error { n += len(rs); return nil }); err != nil {
			t.Fatalf("accepted spool does not replay: %v", err)
		}
		if n != rec.Records {
			t.Fatalf("replayed %d records, Open counted %d", n, rec.Records)
		}
	})
}
