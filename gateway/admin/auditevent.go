package admin

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/audit"
)

// auditEventParams are the search parameters of GET /fhir/AuditEvent.
var auditEventParams = []string{"date", "patient", "outcome", "_count", "_getpages", "_sort", "_format"}

// scanLimit bounds the records read for one page of events, so that a
// selective outcome filter cannot make one page read the whole store: a
// page may then hold fewer events than _count, with a next link.
const scanLimit = 5000

// AuditEventSearch is a parsed AuditEvent search.
type AuditEventSearch struct {
	Range   DateRange
	Patient string
	// Outcomes keeps events with one of these outcome codes (any when
	// empty).
	Outcomes []string
	Count    int
	// Ascending is set by _sort=date (default newest first).
	Ascending bool
	Page      pageToken
}

// pageToken is where a page starts: after the record at the store cursor
// Cursor ("" for the first), skipping the first Skip events of the next
// record (already returned).
type pageToken struct {
	Cursor string
	Skip   int
}

func (p pageToken) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(p.Skip) + ":" + p.Cursor))
}

func decodePage(s string) (pageToken, error) {
	var p pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return p, badRequest("_getpages: not a page this server returned")
	}
	skip, cur, ok := strings.Cut(string(b), ":")
	n, err := strconv.Atoi(skip)
	if !ok || err != nil || n < 0 || n > 1<<20 {
		return p, badRequest("_getpages: not a page this server returned")
	}
	if cur != "" {
		if _, _, err := store.DecodeCursor(cur); err != nil {
			return p, badRequest("_getpages: not a page this server returned")
		}
	}
	return pageToken{Cursor: cur, Skip: n}, nil
}

// ParseAuditEventSearch reads the query of GET /fhir/AuditEvent.
func ParseAuditEventSearch(v url.Values) (AuditEventSearch, error) {
	var s AuditEventSearch
	for k := range v {
		ok := false
		for _, a := range auditEventParams {
			ok = ok || a == k
		}
		if !ok {
			return s, badRequest("unknown search parameter %q (supported: %s)", k, strings.Join(auditEventParams, ", "))
		}
		if k != "date" && len(v[k]) > 1 {
			return s, badRequest("%s is given %d times", k, len(v[k]))
		}
	}
	var err error
	if s.Range, err = ParseDateParams(v["date"]); err != nil {
		return s, err
	}
	if p := v.Get("patient"); p != "" {
		if i := strings.LastIndex(p, "Patient/"); i >= 0 {
			p = p[i+len("Patient/"):]
		}
		if !fhir.ValidID(p) {
			return s, badRequest("patient: want a Patient id or Patient/id, got %q", v.Get("patient"))
		}
		s.Patient = p
	}
	if o := v.Get("outcome"); o != "" {
		for c := range strings.SplitSeq(o, ",") {
			switch c {
			case audit.OutcomeSuccess, audit.OutcomeMinor, audit.OutcomeSerious, "12":
				s.Outcomes = append(s.Outcomes, c)
			default:
				return s, badRequest("outcome: want 0, 4, 8 or 12, got %q", c)
			}
		}
	}
	if s.Count, err = intParam(v, "_count", 50, 1, maxPage); err != nil {
		return s, err
	}
	switch o := v.Get("_sort"); o {
	case "", "-date":
	case "date":
		s.Ascending = true
	default:
		return s, badRequest("_sort: want date or -date, got %q", o)
	}
	switch f := v.Get("_format"); f {
	case "", "json", "application/json", "application/fhir+json":
	default:
		return s, badRequest("_format: only JSON is served, got %q", f)
	}
	if g := v.Get("_getpages"); g != "" {
		if s.Page, err = decodePage(g); err != nil {
			return s, err
		}
	}
	return s, nil
}

// auditEvents answers a searchset Bundle of the AuditEvents of the
// records received in the date range, newest first: one per record, or
// one per patient when a record names several (only the patient's when
// the search names one).
func (h *Handler) auditEvents(r *http.Request, _ *Identity) (*reply, error) {
	s, err := ParseAuditEventSearch(r.URL.Query())
	if err != nil {
		return nil, err
	}
	base := h.base(r)
	var buf bytes.Buffer
	bw := audit.NewBundleWriter(&buf, audit.BundleOptions{Type: "searchset", Timestamp: h.opts.Clock(), Base: base + "/fhir",
		Self: base + r.URL.RequestURI()})
	next, records, err := h.searchEvents(r, &s, bw)
	if err != nil {
		return nil, err
	}
	nextURL := ""
	if next != nil {
		v := r.URL.Query()
		v.Set("_getpages", next.encode())
		nextURL = base + "/fhir/AuditEvent?" + v.Encode()
	}
	if err := bw.Close(nextURL); err != nil {
		return nil, err
	}
	return &reply{status: http.StatusOK, contentType: "application/fhir+json", body: buf.Bytes(), count: records}, nil
}

// searchEvents adds the page's events to bw and returns where the next
// page starts (nil at the end) and how many records the events came from.
func (h *Handler) searchEvents(r *http.Request, s *AuditEventSearch, bw *audit.BundleWriter) (*pageToken, int, error) {
	q := store.Query{From: s.Range.From, To: s.Range.To, Patient: s.Patient, Ascending: s.Ascending,
		Cursor: s.Page.Cursor, Limit: min(s.Count+1, maxPage)}
	// before is the cursor of the record before the one being read: a
	// next page starts there, skipping the events already returned.
	before, first := s.Page.Cursor, true
	scanned, records := 0, 0
	for {
		recs, nextCursor, err := h.opts.Store.Records(r.Context(), q)
		if err != nil {
			return nil, records, err
		}
		for i := range recs {
			rec := &recs[i]
			evs := h.events(rec, s)
			j := 0
			if first {
				j, first = min(s.Page.Skip, len(evs)), false
			}
			for added := false; j < len(evs); j++ {
				if bw.Count() == s.Count {
					return &pageToken{Cursor: before, Skip: j}, records, nil
				}
				if err := bw.Add(&evs[j]); err != nil {
					return nil, records, err
				}
				if !added {
					records, added = records+1, true
				}
			}
			before = store.EncodeCursor(rec.ReceivedAt.UnixMicro(), rec.ID)
			if scanned++; scanned >= scanLimit && bw.Count() < s.Count {
				return &pageToken{Cursor: before}, records, nil
			}
		}
		if nextCursor == "" {
			return nil, records, nil
		}
		q.Cursor = nextCursor
	}
}

// events returns the AuditEvents of rec the search keeps.
func (h *Handler) events(rec *decision.Record, s *AuditEventSearch) []audit.AuditEvent {
	evs := h.opts.Events.Events(rec)
	ids := audit.EventIDs(rec)
	out := evs[:0]
	for i := range evs {
		if s.Patient != "" && ids[i] != audit.EventID(rec.ID, s.Patient) {
			continue
		}
		if len(s.Outcomes) > 0 && !contains(s.Outcomes, evs[i].Outcome) {
			continue
		}
		out = append(out, evs[i])
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// auditEvent answers one AuditEvent by id: a record id, followed for a
// patient's event by "-" and 12 hex digits (audit.EventID).
func (h *Handler) auditEvent(r *http.Request, _ *Identity) (*reply, error) {
	id := r.PathValue("id")
	recID := id
	if i := strings.LastIndexByte(id, '-'); i > 0 && len(id)-i-1 == 12 {
		recID = id[:i]
	}
	rec, err := h.opts.Store.Record(r.Context(), recID)
	if err != nil {
		return nil, fmt.Errorf("%w: no AuditEvent %s", errNotFound, id)
	}
	rec.Entries = nil
	for _, ev := range h.opts.Events.Events(&rec) {
		if ev.ID == id {
			return fhirReply(ev, 1)
		}
	}
	return nil, fmt.Errorf("%w: no AuditEvent %s", errNotFound, id)
}

func fhirReply(v any, count int) (*reply, error) {
	rep, err := jsonReply(http.StatusOK, v, count)
	if err == nil {
		rep.contentType = "application/fhir+json"
	}
	return rep, err
}
