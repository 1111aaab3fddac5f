package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/gateway/admin"
)

// recordsPage is the answer of GET /api/records.
type recordsPage struct {
	Records []decision.Record `json:"records"`
	Count   int               `json:"count"`
	Next    string            `json:"next,omitempty"`
}

// decisionsData is the decisions page.
type decisionsData struct {
	Form     SearchForm
	Actions  []string
	Classes  []string
	Records  []decision.Record
	Searched bool
	Next     string
}

func (h *Handler) decisions(w http.ResponseWriter, r *http.Request, ss *session) {
	form, q := ParseSearch(r.URL.Query())
	d := decisionsData{Form: form, Actions: Actions, Classes: Classes}
	p := page{Title: "Decisions", Nav: "decisions", Session: ss, Data: &d}
	var rp recordsPage
	status := http.StatusOK
	if err := h.call(r, ss, http.MethodGet, "/api/records", q, nil).decode(&rp); err != nil {
		p.Error, status = "The search failed: "+err.Error(), apiStatus(err)
	} else {
		d.Records, d.Searched = rp.Records, true
		if rp.Next != "" {
			d.Next = nextPage(q, rp.Next)
		}
	}
	h.render(w, r, status, "decisions", p)
}

// apiStatus is the status to answer for an API error.
func apiStatus(err error) int {
	if e := (*APIError)(nil); errors.As(err, &e) && e.Status >= 400 {
		return e.Status
	}
	return http.StatusBadGateway
}

// step is one point of a decision's timeline.
type step struct {
	What   string
	At     time.Time
	Detail string
	// Since is the time from the previous step; Total from receipt.
	Since, Total string
}

// traceData is the trace page.
type traceData struct {
	T        admin.Trace
	Timeline []step
	Applied  []admin.TracePolicyText
	Notices  []policyNotice
}

// policyNotice is the notice block of an applied policy: what the
// requester was told.
type policyNotice struct {
	Policy   string `json:"-"`
	Message  string `json:"message"`
	NextStep string `json:"next_step"`
	Contact  string `json:"contact"`
}

func (h *Handler) trace(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	var d traceData
	if err := h.call(r, ss, http.MethodGet, "/api/records/"+pathSegment(id)+"/trace", nil, nil).decode(&d.T); err != nil {
		if e := (*APIError)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
			h.notFound(w, r, ss)
			return
		}
		h.render(w, r, apiStatus(err), "error", page{Title: "Decision trace", Nav: "decisions", Session: ss,
			Error: "The trace could not be read: " + err.Error()})
		return
	}
	d.Timeline = timeline(d.T)
	if ps := d.T.PolicySet; ps != nil {
		for _, t := range ps.Texts {
			if !t.Applied {
				continue
			}
			d.Applied = append(d.Applied, t)
			var txt struct {
				Notice *policyNotice `json:"notice"`
			}
			if json.Unmarshal(t.Text, &txt) == nil && txt.Notice != nil {
				txt.Notice.Policy = t.ID
				d.Notices = append(d.Notices, *txt.Notice)
			}
		}
	}
	h.render(w, r, http.StatusOK, "trace", page{Title: "Decision " + id, Nav: "decisions", Session: ss, Data: &d})
}

// timeline orders what happened to a request: received, decided, the
// journaled transitions (held, released, fulfilled, expired, notice
// sent) and the answer's end, with the time between steps.
func timeline(t admin.Trace) []step {
	rec := t.Record
	steps := []step{{What: "received", At: rec.ReceivedAt, Detail: rec.Method + " " + rec.Path}}
	if !rec.DecidedAt.IsZero() {
		steps = append(steps, step{What: "decided", At: rec.DecidedAt, Detail: rec.Action.String()})
	}
	seen := map[string]bool{}
	for _, e := range t.Entries {
		if e.Kind != decision.KindTransition {
			continue
		}
		var tr decision.Transition
		if json.Unmarshal(e.Payload, &tr) != nil || tr.At.IsZero() {
			continue
		}
		s := step{What: tr.State, At: tr.At, Detail: tr.Reason}
		if tr.By != "" {
			s.Detail = "by " + tr.By
			if tr.Reason != "" {
				s.Detail += ": " + tr.Reason
			}
		}
		seen[tr.State] = true
		steps = append(steps, s)
	}
	if hd := rec.Hold; hd != nil {
		if !seen["held"] {
			steps = append(steps, step{What: "held", At: rec.DecidedAt, Detail: "hold " + hd.ID})
		}
		if hd.ReleasedAt != nil && !seen["released"] {
			steps = append(steps, step{What: "released", At: *hd.ReleasedAt, Detail: "by " + hd.ReleasedBy + ": " + hd.ReleaseReason})
		}
		if hd.CollectedAt != nil && !seen["fulfilled"] {
			steps = append(steps, step{What: "fulfilled", At: *hd.CollectedAt, Detail: "the requester collected the answer"})
		}
		if hd.ExpiredAt != nil && !seen["expired"] {
			steps = append(steps, step{What: "expired", At: *hd.ExpiredAt})
		}
	}
	if rec.FulfilledAt != nil && (rec.Hold == nil || rec.Hold.CollectedAt == nil) {
		steps = append(steps, step{What: "answered", At: *rec.FulfilledAt, Detail: statusText(rec.Status)})
	}
	if n := rec.Notice; n != nil && n.SentAt != nil && !seen["notice-sent"] {
		steps = append(steps, step{What: "notice-sent", At: *n.SentAt, Detail: "by " + n.SentBy + " (" + n.Channel + ")"})
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.At.Compare(b.At) })
	for i := range steps {
		if i > 0 {
			steps[i].Since = human(steps[i].At.Sub(steps[i-1].At))
			steps[i].Total = human(steps[i].At.Sub(rec.ReceivedAt))
		}
	}
	return steps
}

func statusText(s int) string {
	if s == 0 {
		return ""
	}
	return http.StatusText(s) + " (" + itoa(s) + ")"
}
