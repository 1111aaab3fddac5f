package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
)

// jsonReply encodes v as the answer.
func jsonReply(status int, v any, count int) (*reply, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("admin: encode: %w", err)
	}
	return &reply{status: status, contentType: "application/json", body: append(b, '\n'), count: count}, nil
}

// recordsPage is the answer of GET /api/records.
type recordsPage struct {
	Records []decision.Record `json:"records"`
	Count   int               `json:"count"`
	// Next is the cursor of the next page ("" at the end); NextURL the
	// same query with it.
	Next    string `json:"next,omitempty"`
	NextURL string `json:"next_url,omitempty"`
}

func (h *Handler) records(r *http.Request, _ *Identity) (*reply, error) {
	q, err := ParseRecordsQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	recs, next, err := h.opts.Store.Records(r.Context(), q)
	if err != nil {
		return nil, err
	}
	page := recordsPage{Records: recs, Count: len(recs), Next: next}
	if page.Records == nil {
		page.Records = []decision.Record{}
	}
	if next != "" {
		v := r.URL.Query()
		v.Set("cursor", next)
		page.NextURL = h.base(r) + "/api/records?" + v.Encode()
	}
	return jsonReply(http.StatusOK, page, len(recs))
}

func (h *Handler) record(r *http.Request, _ *Identity) (*reply, error) {
	rec, err := h.opts.Store.Record(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return jsonReply(http.StatusOK, rec, 1)
}

// Trace is the answer of GET /api/records/{id}/trace: everything that
// explains one decision.
type Trace struct {
	// Record is the record as it stands (decision merged with its
	// completion and transitions).
	Record decision.Record `json:"record"`
	// Entries are the journal entries of the request, in journal order:
	// decision, completion, transitions (held, released, fulfilled,
	// notice-sent).
	Entries []TraceEntry `json:"entries"`
	// PolicySet is the policy set in force at the decision, with the
	// canonical text of every policy in it.
	PolicySet *TracePolicySet `json:"policy_set,omitempty"`
	// Exception is the catalog entry of the exception relied on.
	Exception *TraceException `json:"exception,omitempty"`
}

// TraceEntry is one journal entry with its place in the chain.
type TraceEntry struct {
	decision.EntryRef
	RecordID string          `json:"record_id"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
	Payload  json.RawMessage `json:"payload"`
}

// TracePolicySet is a policy-set entry.
type TracePolicySet struct {
	Hash           string            `json:"hash"`
	At             string            `json:"at,omitempty"`
	CatalogVersion string            `json:"catalog_version,omitempty"`
	Entry          *TraceEntryRef    `json:"entry,omitempty"`
	Texts          []TracePolicyText `json:"texts"`
}

// TraceEntryRef locates a journal entry.
type TraceEntryRef struct {
	Chain string `json:"chain"`
	Seq   uint64 `json:"seq"`
	Hash  string `json:"hash"`
}

// TracePolicyText is one policy's canonical text; Applied marks the
// policies the record names.
type TracePolicyText struct {
	ID      string          `json:"id"`
	Version string          `json:"version"`
	SHA256  string          `json:"sha256"`
	Applied bool            `json:"applied,omitempty"`
	Text    json.RawMessage `json:"text"`
}

// TraceCondition is one regulatory condition of an exception, or a
// field its policies document.
type TraceCondition struct {
	CFR  string `json:"cfr,omitempty"`
	Name string `json:"name,omitempty"`
	Text string `json:"text"`
}

// TraceException is an exception catalog entry.
type TraceException struct {
	Code  string `json:"code"`
	Title string `json:"title,omitempty"`
	CFR   string `json:"cfr,omitempty"`
	Kind  string `json:"kind,omitempty"`
	// Status is in-force, at-risk or watch.
	Status string `json:"status,omitempty"`
	// CatalogVersion is the catalog this entry is read from;
	// RecordCatalogVersion the one in force when the record was decided.
	CatalogVersion       string           `json:"catalog_version"`
	RecordCatalogVersion string           `json:"record_catalog_version,omitempty"`
	Conditions           []TraceCondition `json:"conditions,omitempty"`
	// Documentation are the fields a policy citing it must document.
	Documentation []TraceCondition `json:"documentation,omitempty"`
	Duty          string           `json:"duty,omitempty"`
	Note          string           `json:"note,omitempty"`
}

func (h *Handler) trace(r *http.Request, _ *Identity) (*reply, error) {
	ctx := r.Context()
	id := r.PathValue("id")
	rec, err := h.opts.Store.Record(ctx, id)
	if err != nil {
		return nil, err
	}
	es, err := h.opts.Store.RecordEntries(ctx, id)
	if err != nil {
		return nil, err
	}
	t := Trace{Record: rec, Entries: make([]TraceEntry, 0, len(es))}
	for _, e := range es {
		t.Entries = append(t.Entries, traceEntry(e))
	}
	if rec.PolicySet != "" {
		if t.PolicySet, err = h.policySet(r, rec); err != nil {
			return nil, err
		}
	}
	if rec.Exception != nil && rec.Exception.Code != "" {
		t.Exception = h.exception(rec.Exception)
	}
	return jsonReply(http.StatusOK, t, 1)
}

func traceEntry(e decision.Entry) TraceEntry {
	te := TraceEntry{EntryRef: decision.EntryRef{Kind: e.Kind, Chain: e.Chain, Seq: e.Seq, At: e.At},
		RecordID: e.RecordID, PrevHash: e.PrevHash, Hash: e.Hash, Payload: e.Payload}
	if !json.Valid(e.Payload) {
		// Tampered or not JSON: shown as a string rather than failing.
		b, _ := json.Marshal(string(e.Payload))
		te.Payload = b
	}
	return te
}

// policySet reads the policy-set entry the record was decided under.
func (h *Handler) policySet(r *http.Request, rec decision.Record) (*TracePolicySet, error) {
	es, err := h.opts.Store.RecordEntries(r.Context(), policy.RecordID(rec.PolicySet))
	if err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, p := range rec.Policies {
		named[p.ID+"@"+p.Version] = true
	}
	out := &TracePolicySet{Hash: rec.PolicySet, Texts: []TracePolicyText{}}
	for _, e := range es {
		var ps decision.PolicySet
		if json.Unmarshal(e.Payload, &ps) != nil || len(ps.Texts) == 0 {
			continue
		}
		out.At, out.CatalogVersion = ps.At.UTC().Format("2006-01-02T15:04:05.999999Z07:00"), ps.CatalogVersion
		out.Entry = &TraceEntryRef{Chain: e.Chain, Seq: e.Seq, Hash: e.Hash}
		for _, t := range ps.Texts {
			out.Texts = append(out.Texts, TracePolicyText{ID: t.ID, Version: t.Version, SHA256: t.SHA256,
				Applied: named[t.ID+"@"+t.Version], Text: t.Text})
		}
		break
	}
	return out, nil
}

func (h *Handler) exception(ref *decision.ExceptionRef) *TraceException {
	te := &TraceException{Code: ref.Code, CFR: ref.CFR, CatalogVersion: h.opts.Catalog.Version(), RecordCatalogVersion: ref.CatalogVersion}
	e, err := h.opts.Catalog.Lookup(ref.Code)
	if err != nil {
		te.Note = "not in the current exception catalog"
		return te
	}
	te.Title, te.Kind, te.Status, te.Note = e.Title, e.Kind, e.EffectiveStatus(), e.Note
	if te.CFR == "" {
		te.CFR = e.CFR
	}
	conds := e.Conditions
	if p := e.Parent(); p != nil {
		if te.Title == "" {
			te.Title = p.Title
		}
		if len(conds) == 0 {
			conds = p.Conditions
		}
	}
	te.Conditions = conditions(conds)
	for _, fl := range e.Fields() {
		te.Documentation = append(te.Documentation, TraceCondition{Name: fl.Name, Text: fl.Text})
	}
	if d := e.Duty(); d != nil {
		te.Duty = d.Duty
	}
	return te
}

func conditions(cs []exceptions.Condition) []TraceCondition {
	out := make([]TraceCondition, 0, len(cs))
	for _, c := range cs {
		out = append(out, TraceCondition{CFR: c.CFR, Text: c.Text})
	}
	return out
}

// nextURL returns the URL of path with v.
func nextURL(base, path string, v url.Values) string { return base + path + "?" + v.Encode() }
