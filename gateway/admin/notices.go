package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/notices"
	"github.com/ehigate/ehigate/decision/report"
)

// RecordReader reads one record (a store.Store is one).
type RecordReader interface {
	Record(ctx context.Context, id string) (decision.Record, error)
}

// TransitionAppender appends an entry durably (decision/journal.Writer is
// one).
type TransitionAppender interface {
	Append(ctx context.Context, kind decision.EntryKind, recordID string, payload any, rec *decision.Record) (decision.Entry, error)
}

// MarkNoticeSent marks the notice item of record id sent at by whom and
// how, and journals the notice-sent transition with the updated record
// (notices.MarkSent); the command line and the API both use it. It
// returns the updated record and the transition.
func MarkNoticeSent(ctx context.Context, st RecordReader, j TransitionAppender, id string, at time.Time, by, channel string) (decision.Record, decision.Transition, error) {
	rec, err := st.Record(ctx, id)
	if err != nil {
		return rec, decision.Transition{}, err
	}
	upd, tr, err := notices.MarkSent(rec, at, by, channel)
	if err != nil {
		return rec, tr, err
	}
	// The store keeps the spooled mark beside the document, not in it.
	upd.Flags = slices.DeleteFunc(upd.Flags, func(f decision.Flag) bool { return f == decision.FlagSpooled })
	if _, err := j.Append(ctx, decision.KindTransition, id, tr, &upd); err != nil {
		return rec, tr, err
	}
	return upd, tr, nil
}

// noticeParams are the query parameters of GET /api/notices.
var noticeParams = []string{"within", "from", "to"}

func (h *Handler) notices(r *http.Request, _ *Identity) (*reply, error) {
	v := r.URL.Query()
	if err := only(v, noticeParams...); err != nil {
		return nil, err
	}
	p := report.Params{Now: h.opts.Clock(), Policies: h.opts.Policies()}
	var err error
	if p.NoticeHorizon, err = durationParam(v, "within", 3*24*time.Hour); err != nil {
		return nil, err
	}
	if p.From, err = timeParam(v, "from"); err != nil {
		return nil, err
	}
	if p.To, err = timeParam(v, "to"); err != nil {
		return nil, err
	}
	rep, err := report.Notices(r.Context(), h.opts.Store, p)
	if err != nil {
		return nil, err
	}
	return jsonReply(http.StatusOK, rep, len(rep.Items))
}

// SentRequest is the body of POST /api/notices/{id}/sent.
type SentRequest struct {
	// By is who sent the written response (default: the credential's
	// name).
	By string `json:"by"`
	// Channel is how: mail, email, portal, phone or fhir.
	Channel string `json:"channel"`
	// At is when (RFC 3339; default now).
	At string `json:"at"`
}

// SentReply is the answer of POST /api/notices/{id}/sent.
type SentReply struct {
	Record     decision.Record     `json:"record"`
	Transition decision.Transition `json:"transition"`
}

func (h *Handler) noticeSent(r *http.Request, who *Identity) (*reply, error) {
	var body SentRequest
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if strings.TrimSpace(body.By) == "" {
		body.By = who.Name
	}
	at := h.opts.Clock()
	if body.At != "" {
		t, err := ParseTime(body.At)
		if err != nil {
			return nil, badRequest("at: %v", err)
		}
		at = t
	}
	rec, tr, err := MarkNoticeSent(r.Context(), h.opts.Store, h.opts.Journal, r.PathValue("id"), at, body.By, body.Channel)
	switch {
	case errors.Is(err, notices.ErrChannel):
		return nil, badRequest("channel: want one of %s", strings.Join(notices.Channels, ", "))
	case errors.Is(err, notices.ErrNoNotice), errors.Is(err, notices.ErrAlreadySent):
		return nil, fmt.Errorf("%w: %v", errConflict, err)
	case err != nil:
		return nil, err
	}
	return jsonReply(http.StatusOK, SentReply{Record: rec, Transition: tr}, 1)
}
