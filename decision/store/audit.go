package store

import (
	"fmt"

	"github.com/ehigate/ehigate/decision"
)

// Projection is a record's projection row as a store holds it, with the
// patient index rows that point at it.
type Projection struct {
	Row
	// Doc is the stored record document (JSON), byte for byte.
	Doc []byte
	// Spooled is the store's annotation that the record went through the
	// spool; it is not part of the evidence.
	Spooled bool
	// PatientRows are the patient index rows of the record.
	PatientRows []PatientRow
	// Missing is set when patient index rows point at a record that has
	// no projection row.
	Missing bool
}

// PatientRow is one row of the patient index.
type PatientRow struct {
	Patient    string
	ReceivedAt int64 // Unix microseconds
}

// AuditRecord is what a store holds about one record: its decision,
// completion and transition entries (ordered by chain and seq), and its
// projection (nil when there is no projection row).
type AuditRecord struct {
	ID         string
	Entries    []decision.Entry
	Projection *Projection
}

// AuditSource is three cursors over one snapshot of a store, each in
// record id order; stores hand them to MergeAudit.
type AuditSource struct {
	// Entries yields decision, completion and transition entries ordered
	// by record id, then chain and seq; ok is false at the end.
	Entries func() (e decision.Entry, ok bool, err error)
	// Projections yields projection rows ordered by id (PatientRows empty).
	Projections func() (p Projection, ok bool, err error)
	// Patients yields patient index rows ordered by record id.
	Patients func() (recordID string, p PatientRow, ok bool, err error)
}

// MergeAudit joins the three cursors of src by record id and calls fn for
// each record, in id order. fn must not keep the AuditRecord.
func MergeAudit(src AuditSource, fn func(*AuditRecord) error) error {
	type head[T any] struct {
		v   T
		id  string
		ok  bool
		err error
	}
	var e head[decision.Entry]
	var p head[Projection]
	var pt head[PatientRow]
	nextE := func() { e.v, e.ok, e.err = src.Entries(); e.id = e.v.RecordID }
	nextP := func() { p.v, p.ok, p.err = src.Projections(); p.id = p.v.ID }
	nextPt := func() { pt.id, pt.v, pt.ok, pt.err = src.Patients() }
	nextE()
	nextP()
	nextPt()
	var rec AuditRecord
	var proj Projection
	for {
		if err := firstErr(e.err, p.err, pt.err); err != nil {
			return fmt.Errorf("store: audit: %w", err)
		}
		id, found := "", false
		for _, h := range [...]struct {
			ok bool
			id string
		}{{e.ok, e.id}, {p.ok, p.id}, {pt.ok, pt.id}} {
			if h.ok && (!found || h.id < id) {
				id, found = h.id, true
			}
		}
		if !found {
			return nil
		}
		rec.ID, rec.Entries, rec.Projection = id, rec.Entries[:0], nil
		for e.ok && e.id == id && e.err == nil {
			rec.Entries = append(rec.Entries, e.v)
			nextE()
		}
		if p.ok && p.id == id {
			proj = p.v
			proj.PatientRows = proj.PatientRows[:0]
			rec.Projection = &proj
			nextP()
		}
		for pt.ok && pt.id == id && pt.err == nil {
			if rec.Projection == nil {
				// Index rows pointing at no projection row.
				proj = Projection{Row: Row{ID: id}, Missing: true}
				rec.Projection = &proj
			}
			rec.Projection.PatientRows = append(rec.Projection.PatientRows, pt.v)
			nextPt()
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
