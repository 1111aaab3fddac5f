package export

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir/audit"
)

// maxProblems bounds the record problems listed in verification.json.
const maxProblems = 100

// recordCheck is what the export found comparing each exported record as
// the store's projection holds it with the record its entries make.
type recordCheck struct {
	// Recomputed counts records recomputed from their entries.
	Recomputed int `json:"recomputed"`
	// ProblemCount counts records whose projection differs from their
	// entries, or that could not be recomputed; Problems lists the first.
	ProblemCount int             `json:"problem_count"`
	Problems     []RecordProblem `json:"problems,omitempty"`
	// Unchecked counts records with transition entries and no rule to
	// apply them: they are exported as the projection holds them.
	Unchecked int `json:"unchecked,omitempty"`
	// Later counts records of the window decided after the export began;
	// they are left out.
	Later int `json:"decided_after_export_began,omitempty"`
}

// RecordProblem is one record whose projection does not match its entries.
type RecordProblem struct {
	Record string `json:"record"`
	Detail string `json:"detail"`
}

func (c *recordCheck) problem(id, detail string) {
	c.ProblemCount++
	if len(c.Problems) < maxProblems {
		c.Problems = append(c.Problems, RecordProblem{Record: id, Detail: detail})
	}
}

// writeRecords writes records.ndjson and auditevents.json (spilled to a
// temporary file meanwhile), noting the entries each record needs and
// adding it to the summary. Records are read in order by one goroutine,
// prepared (recomputed, compared, their events encoded) by one worker
// per core, and written in order.
func (x *exporter) writeRecords() error {
	f, err := x.zw.create(FileRecords)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(f, 64<<10)
	spill, err := x.tempFile()
	if err != nil {
		return err
	}
	defer func() {
		spill.Close()
		os.Remove(spill.Name())
	}()
	events := audit.NewBundleWriter(spill, audit.BundleOptions{Type: "collection", Timestamp: x.man.CreatedAt})
	feed := x.queryRecords
	if x.scanAll() {
		feed = x.scanRecords
	}
	if err := x.pipeline(feed, func(j *job) error { return x.apply(j, out, events) }); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("export: %s: %w", FileRecords, err)
	}
	if err := events.Close(""); err != nil {
		return fmt.Errorf("export: %s: %w", FileAuditEvents, err)
	}
	x.man.AuditEvents = events.Count()
	w, err := x.zw.create(FileAuditEvents)
	if err != nil {
		return err
	}
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("export: %s: %w", FileAuditEvents, err)
	}
	if _, err := io.Copy(w, spill); err != nil {
		return fmt.Errorf("export: %s: %w", FileAuditEvents, err)
	}
	return nil
}

// scanRecords feeds the records the window selects from one scan of the
// store.
func (x *exporter) scanRecords(emit func(*job) error) error {
	return x.st.Audit(x.ctx, func(ar *store.AuditRecord) error {
		p := ar.Projection
		if p == nil || p.Missing || !x.selectsRow(p) {
			return nil
		}
		return emit(&job{id: ar.ID, doc: bytes.Clone(p.Doc), spooled: p.Spooled, snapshot: true, all: slices.Clone(ar.Entries)})
	})
}

// queryRecords feeds the records of the store's indexed query, page by
// page; each one's entries are read by the worker preparing it.
func (x *exporter) queryRecords(emit func(*job) error) error {
	q := store.Query{From: x.man.Window.From, To: x.man.Window.To, Patient: x.opts.Filter.Patient, Subject: x.opts.Filter.Requester,
		Policy: x.opts.Filter.Policy, Ascending: true, Limit: 1000}
	for {
		recs, next, err := x.st.Records(x.ctx, q)
		if err != nil {
			return err
		}
		for i := range recs {
			if err := emit(&job{id: recs[i].ID, proj: &recs[i]}); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		q.Cursor = next
	}
}

// scanAll reports whether to read the records by one scan of the store
// (store.Store.Audit: one snapshot, no query per record) rather than by
// query: for a package of a whole window that covers at least a quarter
// of the journal's time span.
func (x *exporter) scanAll() bool {
	if x.opts.Filter != (Filter{}) {
		return false
	}
	var first, last time.Time
	for _, c := range x.heads {
		if c.Seq == 0 {
			continue
		}
		if first.IsZero() || c.First.Before(first) {
			first = c.First
		}
		if c.Last.After(last) {
			last = c.Last
		}
	}
	span := last.Sub(first)
	from, to := x.man.Window.From, x.man.Window.To
	if from.Before(first) {
		from = first
	}
	if to.After(last) {
		to = last
	}
	return span <= 0 || to.Sub(from) >= span/4
}

// selectsRow reports whether a projection row is in the window and
// matches the filter, as the store's query would select it.
func (x *exporter) selectsRow(p *store.Projection) bool {
	w, f := x.man.Window, x.opts.Filter
	if (!w.From.IsZero() && p.ReceivedAt < w.From.UnixMicro()) || (!w.To.IsZero() && p.ReceivedAt >= w.To.UnixMicro()) {
		return false
	}
	if f.Requester != "" && p.Subject != f.Requester {
		return false
	}
	if f.Policy != "" && !strings.Contains(p.Policies, ","+f.Policy+",") {
		return false
	}
	if f.Patient != "" && !slices.ContainsFunc(p.PatientRows, func(r store.PatientRow) bool { return r.Patient == f.Patient }) {
		return false
	}
	return true
}
