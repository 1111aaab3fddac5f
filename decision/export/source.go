package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/policy/render"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir/audit"
)

// pkgSource reads a package as decision/journal/verify reads a store:
// the chain segments of entries.ndjson, the checkpoints of
// checkpoints.json, and the records of records.ndjson as the projection
// (each with its entries, so that verify recomputes it).
type pkgSource struct {
	files  map[string]*zip.File
	chains []store.Chain
	cps    []store.Checkpoint
	// entries holds the entries of each exported record (by record id);
	// Audit hands them over and lets go of them.
	entries map[string][]decision.Entry
	// texts holds the policy texts of the policy-set entries, by
	// id@version@sha256.
	texts map[string][]byte
	// records are the exported records' ids, patients and policies, in
	// file order.
	records []recordInfo
	// problems found while reading.
	problems []Problem
}

// recordInfo is what the checks need of an exported record.
type recordInfo struct {
	id       string
	eventIDs []string
	policies []decision.PolicyRef
}

var _ verify.Source = (*pkgSource)(nil)

// open reads the records, the entries and the checkpoints.
func (s *pkgSource) open() error {
	s.entries = map[string][]decision.Entry{}
	s.texts = map[string][]byte{}
	err := s.lines(FileRecords, func(n int, b []byte) error {
		var r decision.Record
		if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
			s.problem(FileRecords, ReasonFormat, fmt.Sprintf("line %d is not a record", n))
			return nil
		}
		if _, dup := s.entries[r.ID]; dup {
			s.problem(FileRecords, ReasonRecord, fmt.Sprintf("record %s appears twice", r.ID))
		}
		s.entries[r.ID] = nil
		s.records = append(s.records, recordInfo{id: r.ID, eventIDs: audit.EventIDs(&r), policies: r.Policies})
		return nil
	})
	if err != nil {
		return err
	}
	heads := map[string]*store.Chain{}
	err = s.readEntries(func(e decision.Entry) error {
		c := heads[e.Chain]
		if c == nil {
			c = &store.Chain{Name: e.Chain}
			heads[e.Chain] = c
		}
		c.Seq, c.Hash = e.Seq, e.Hash
		switch e.Kind {
		case decision.KindDecision, decision.KindCompletion, decision.KindTransition:
			if es, ok := s.entries[e.RecordID]; ok {
				s.entries[e.RecordID] = append(es, e)
			}
		case decision.KindPolicySet:
			var ps decision.PolicySet
			if json.Unmarshal(e.Payload, &ps) == nil {
				for _, t := range ps.Texts {
					if text, err := render.Canonical(t.Text); err == nil {
						s.texts[t.ID+"@"+t.Version+"@"+t.SHA256] = text
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range heads {
		s.chains = append(s.chains, *c)
	}
	slices.SortFunc(s.chains, func(a, b store.Chain) int { return cmp.Compare(a.Name, b.Name) })
	var cf checkpointsFile
	if err := s.json(FileCheckpoints, &cf); err != nil {
		return err
	}
	s.cps = cf.Checkpoints
	slices.SortStableFunc(s.cps, func(a, b store.Checkpoint) int {
		return cmp.Or(cmp.Compare(a.Chain, b.Chain), cmp.Compare(a.Seq, b.Seq))
	})
	return nil
}

func (s *pkgSource) problem(file string, r Reason, detail string) {
	s.problems = append(s.problems, Problem{File: file, Reason: r, Detail: detail})
}

// readEntries reads entries.ndjson from the start.
func (s *pkgSource) readEntries(fn func(decision.Entry) error) error {
	f, ok := s.files[FileEntries]
	if !ok {
		return nil // reported with the manifest
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, FileEntries, err)
	}
	defer rc.Close()
	return readEntries(rc, fn)
}

// lines calls fn with each non-empty line of a file and its number.
func (s *pkgSource) lines(name string, fn func(n int, line []byte) error) error {
	f, ok := s.files[name]
	if !ok {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, name, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if b := bytes.TrimSpace(sc.Bytes()); len(b) > 0 {
			if err := fn(n, b); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, name, err)
	}
	return nil
}

// json decodes a whole JSON file.
func (s *pkgSource) json(name string, v any) error {
	f, ok := s.files[name]
	if !ok {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, name, err)
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		s.problem(name, ReasonFormat, err.Error())
	}
	return nil
}

// Chains implements verify.Source.
func (s *pkgSource) Chains(context.Context) ([]store.Chain, error) { return s.chains, nil }

// Entries implements verify.Source.
func (s *pkgSource) Entries(ctx context.Context, chain string, from, to uint64, fn func(decision.Entry) error) error {
	return s.readEntries(func(e decision.Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Chain != chain || e.Seq < from || (to != 0 && e.Seq > to) {
			return nil
		}
		return fn(e)
	})
}

// Checkpoints implements verify.Source.
func (s *pkgSource) Checkpoints(_ context.Context, chain string, from uint64, fn func(store.Checkpoint) error) error {
	for _, cp := range s.cps {
		if cp.Chain == chain && cp.Seq >= from {
			if err := fn(cp); err != nil {
				return err
			}
		}
	}
	return nil
}

// Audit implements verify.Source: each record of records.ndjson, as the
// projection, with the entries of it the package holds.
func (s *pkgSource) Audit(ctx context.Context, fn func(*store.AuditRecord) error) error {
	err := s.lines(FileRecords, func(_ int, b []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var r decision.Record
		if json.Unmarshal(b, &r) != nil || r.ID == "" {
			return nil // reported when opened
		}
		p := &store.Projection{Row: store.RowOf(&r), Doc: bytes.Clone(b)}
		for _, pt := range r.Patients {
			p.PatientRows = append(p.PatientRows, store.PatientRow{Patient: pt, ReceivedAt: r.ReceivedAt.UnixMicro()})
		}
		es := s.entries[r.ID]
		delete(s.entries, r.ID)
		return fn(&store.AuditRecord{ID: r.ID, Entries: es, Projection: p})
	})
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
