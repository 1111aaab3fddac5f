package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/report"
	"github.com/ehigate/ehigate/gateway/admin"
)

// queuesData is the work queues page.
type queuesData struct {
	Holds    admin.HoldList
	Notices  report.NoticesReport
	Within   string
	Channels []string
	Errors   []string
}

func (h *Handler) queues(w http.ResponseWriter, r *http.Request, ss *session) {
	within := field(r.URL.Query(), "within")
	if within == "" {
		within = "3d"
	}
	d := queuesData{Within: within, Channels: notices.Channels}
	if err := h.call(r, ss, http.MethodGet, "/api/holds", url.Values{"state": {"held"}}, nil).decode(&d.Holds); err != nil {
		d.Errors = append(d.Errors, "Holds: "+err.Error())
	}
	if err := h.call(r, ss, http.MethodGet, "/api/notices", url.Values{"within": {within}}, nil).decode(&d.Notices); err != nil {
		d.Errors = append(d.Errors, "Notices: "+err.Error())
	}
	h.render(w, r, http.StatusOK, "queues", page{Title: "Work queues", Nav: "queues", Session: ss, Data: &d})
}

// back redirects to the work queues with a message.
func (h *Handler) back(w http.ResponseWriter, r *http.Request, ss *session, f flash) {
	h.sessions.setFlash(ss, f)
	http.Redirect(w, r, Prefix+"queues", http.StatusSeeOther)
}

// refusal words an API error of an officer's action.
func refusal(action string, err error) flash {
	if e := (*APIError)(nil); errors.As(err, &e) && e.Refused() {
		return flash{Error: true, Text: "Refused: only officers may " + action + " (" + e.Message + ")."}
	}
	return flash{Error: true, Text: "Could not " + action + ": " + err.Error()}
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	reason := field(r.PostForm, "reason")
	if reason == "" {
		h.back(w, r, ss, flash{Error: true, Text: "Give a reason to release hold " + id + "."})
		return
	}
	body := admin.ReleaseRequest{Reason: reason, By: field(r.PostForm, "by")}
	if err := h.call(r, ss, http.MethodPost, "/api/holds/"+pathSegment(id)+"/release", nil, body).err; err != nil {
		h.back(w, r, ss, refusal("release held requests", err))
		return
	}
	h.back(w, r, ss, flash{Text: "Hold " + id + " released: the gateway fetches the answer for the requester."})
}

func (h *Handler) noticeSent(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	ch := field(r.PostForm, "channel")
	if !slices.Contains(notices.Channels, ch) {
		h.back(w, r, ss, flash{Error: true, Text: "Choose how the written response was sent."})
		return
	}
	body := admin.SentRequest{Channel: ch, At: field(r.PostForm, "at")}
	if err := h.call(r, ss, http.MethodPost, "/api/notices/"+pathSegment(id)+"/sent", nil, body).err; err != nil {
		h.back(w, r, ss, refusal("mark written responses sent", err))
		return
	}
	h.back(w, r, ss, flash{Text: "The written response of " + id + " is marked sent."})
}

func (h *Handler) exportForm(w http.ResponseWriter, r *http.Request, ss *session) {
	h.render(w, r, http.StatusOK, "export", page{Title: "Export", Nav: "export", Session: ss, Data: ParseWindow(r.URL.Query())})
}

// export builds an audit package through the API and streams it back as
// a download.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, ss *session) {
	form := ParseWindow(r.PostForm)
	p := page{Title: "Export", Nav: "export", Session: ss, Data: form}
	if form["from"] == "" {
		p.Error = "Give the start of the window (from)."
		h.render(w, r, http.StatusBadRequest, "export", p)
		return
	}
	body := admin.ExportRequest{From: form["from"], To: form["to"], Patient: form["patient"],
		Requester: form["requester"], Policy: form["policy"]}
	if err := h.stream(w, r, ss, http.MethodPost, "/api/exports", body); err != nil {
		p.Error = "The package could not be built: " + err.Error()
		h.render(w, r, apiStatus(err), "export", p)
	}
}
