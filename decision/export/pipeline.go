package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal/verify"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir/audit"
)

// job is one record on its way through the export: read by the feeder,
// prepared by a worker, applied in order.
type job struct {
	id string
	// proj is the projection as a query read it; doc and spooled the
	// projection document as a scan read it (with all, one snapshot).
	proj     *decision.Record
	doc      []byte
	spooled  bool
	snapshot bool
	all      []decision.Entry

	// Set by prepare.
	later, recomputed, unchecked bool
	problems                     []RecordProblem
	line                         []byte
	rec                          *decision.Record
	seqs                         []decision.EntryRef
	eventIDs                     []string
	events                       [][]byte
	err                          error
	done                         chan struct{}
}

func (j *job) problem(detail string) {
	j.problems = append(j.problems, RecordProblem{Record: j.id, Detail: detail})
}

// pipeline runs feed, which emits jobs in order, prepares them on every
// core and applies them in the order they were emitted. At most a few
// thousand records are in flight.
func (x *exporter) pipeline(feed func(emit func(*job) error) error, apply func(*job) error) error {
	work := make(chan *job, 256)
	order := make(chan *job, 1024)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				x.prepare(j)
				close(j.done)
			}
		}()
	}
	var failed atomic.Bool
	applied := make(chan error, 1)
	go func() {
		var err error
		for j := range order {
			<-j.done
			if err == nil {
				if err = apply(j); err != nil {
					failed.Store(true)
				}
			}
		}
		applied <- err
	}()
	ferr := feed(func(j *job) error {
		if failed.Load() {
			return errStop
		}
		if err := x.ctx.Err(); err != nil {
			return err
		}
		j.done = make(chan struct{})
		order <- j
		work <- j
		return nil
	})
	close(work)
	close(order)
	wg.Wait()
	if err := <-applied; err != nil {
		return err
	}
	if ferr != nil {
		return fmt.Errorf("export: records: %w", ferr)
	}
	return nil
}

// prepare recomputes a record from its entries up to the chain heads
// taken when the export began, so that records.ndjson and entries.ndjson
// agree whatever is appended meanwhile; compares it with the store's
// projection; and encodes its AuditEvents.
func (x *exporter) prepare(j *job) {
	if j.all == nil && !j.snapshot {
		if j.all, j.err = x.st.RecordEntries(x.ctx, j.id); j.err != nil {
			j.err = fmt.Errorf("export: record %s: %w", j.id, j.err)
			return
		}
	}
	kept := make([]decision.Entry, 0, len(j.all))
	decided := false
	for _, e := range j.all {
		if h, ok := x.heads[e.Chain]; ok && e.Seq <= h.Seq && e.Kind != decision.KindAccess && e.Kind != decision.KindPolicySet {
			kept = append(kept, e)
			decided = decided || e.Kind == decision.KindDecision
		}
	}
	if !decided {
		j.later = true
		return
	}
	rec, doc, err := verify.Recompute(j.id, kept, x.opts.Transition)
	switch {
	case errors.Is(err, verify.ErrNoTransitionRule):
		j.unchecked = true
		rec, doc, err = j.stored()
	case err != nil:
		j.problem("cannot be recomputed from its entries: " + err.Error())
		rec, doc, err = j.stored()
	default:
		j.recomputed = true
		err = x.compare(j, len(kept) == len(j.all), doc)
	}
	if err != nil {
		j.err = err
		return
	}
	// A copy: doc may be an entry's payload.
	j.rec, j.line = rec, append(append(make([]byte, 0, len(doc)+1), doc...), '\n')
	for _, e := range kept {
		j.seqs = append(j.seqs, decision.EntryRef{Chain: e.Chain, Seq: e.Seq})
	}
	evs := x.opts.Events.Events(rec)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range evs {
		buf.Reset()
		if err := enc.Encode(&evs[i]); err != nil {
			j.err = fmt.Errorf("export: events of %s: %w", j.id, err)
			return
		}
		j.eventIDs = append(j.eventIDs, evs[i].ID)
		j.events = append(j.events, bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
	}
	j.all = nil
}

// apply writes a prepared record and counts it.
func (x *exporter) apply(j *job, out io.Writer, events *audit.BundleWriter) error {
	if j.err != nil {
		return j.err
	}
	for _, p := range j.problems {
		x.check.problem(p.Record, p.Detail)
	}
	switch {
	case j.later:
		x.check.Later++
		return nil
	case j.unchecked:
		x.check.Unchecked++
	case j.recomputed:
		x.check.Recomputed++
	}
	if _, err := out.Write(j.line); err != nil {
		return fmt.Errorf("export: %s: %w", FileRecords, err)
	}
	for _, r := range j.seqs {
		x.needs.add(r.Chain, r.Seq)
	}
	for i, b := range j.events {
		if err := events.AddJSON(j.eventIDs[i], b); err != nil {
			return err
		}
	}
	x.sum.add(j.rec)
	x.man.Records++
	return nil
}

// stored returns the record as the store's projection holds it.
func (j *job) stored() (*decision.Record, []byte, error) {
	if j.doc != nil {
		rec, err := store.DecodeRecord(j.doc, false)
		if err != nil {
			return nil, nil, fmt.Errorf("export: record %s: %w", j.id, err)
		}
		return &rec, j.doc, nil
	}
	return asStored(j.proj)
}

// compare checks the store's projection of a record against the record
// all its entries make. Read from one snapshot, a difference is a
// problem; read by two queries, it may be an entry appended between
// them, so the record is read again.
func (x *exporter) compare(j *job, same bool, doc []byte) error {
	all := j.all
	for attempt := 0; ; attempt++ {
		want := doc
		if !same {
			_, full, err := verify.Recompute(j.id, all, x.opts.Transition)
			if err != nil {
				j.problem("cannot be recomputed from its entries: " + err.Error())
				return nil
			}
			want = full
		}
		_, got, err := j.stored()
		if err != nil {
			return err
		}
		diff := ""
		if !bytes.Equal(want, got) {
			diff = verify.DocDiff(want, got)
		}
		if diff == "" {
			return nil
		}
		if attempt == 2 || j.snapshot {
			j.problem("the store's projection differs from the record its entries make (" + diff + ")")
			return nil
		}
		again, err := x.st.Record(x.ctx, j.id)
		if err != nil {
			return fmt.Errorf("export: record %s: %w", j.id, err)
		}
		if all, err = x.st.RecordEntries(x.ctx, j.id); err != nil {
			return fmt.Errorf("export: record %s: %w", j.id, err)
		}
		j.proj, same = &again, false
	}
}

// asStored returns a record as the store's projection holds it: without
// the spooled annotation and entry references the store adds on reading.
func asStored(r *decision.Record) (*decision.Record, []byte, error) {
	c := *r
	c.Entries = nil
	if c.HasFlag(decision.FlagSpooled) {
		c.Flags = slices.DeleteFunc(slices.Clone(c.Flags), func(f decision.Flag) bool { return f == decision.FlagSpooled })
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, nil, fmt.Errorf("export: record %s: %w", r.ID, err)
	}
	return &c, b, nil
}
