package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ehigate/ehigate/decision/store"
)

// holdParams are the query parameters of GET /api/holds.
var holdParams = []string{"state", "limit"}

// HoldList is the answer of GET /api/holds.
type HoldList struct {
	Holds []store.Hold `json:"holds"`
}

func (h *Handler) holds(r *http.Request, _ *Identity) (*reply, error) {
	v := r.URL.Query()
	if err := only(v, holdParams...); err != nil {
		return nil, err
	}
	q := store.HoldQuery{}
	var err error
	if q.Limit, err = intParam(v, "limit", 1000, 1, 10000); err != nil {
		return nil, err
	}
	states := v.Get("state")
	if states == "" {
		states = "held,released,ready"
	}
	if states != "all" {
		for s := range strings.SplitSeq(states, ",") {
			st := store.HoldState(strings.TrimSpace(s))
			if !st.Valid() {
				return nil, badRequest("state: unknown hold state %q (held, released, ready, fulfilled, expired, or all)", s)
			}
			q.States = append(q.States, st)
		}
	}
	hs, err := h.opts.Store.Holds(r.Context(), q)
	if err != nil {
		return nil, err
	}
	for i := range hs {
		// The requester's headers carry their credentials: they stay in
		// the store.
		hs[i].Request.Header = nil
		if hs[i].Response != nil {
			hs[i].Response.Header = nil
		}
	}
	if hs == nil {
		hs = []store.Hold{}
	}
	return jsonReply(http.StatusOK, HoldList{Holds: hs}, len(hs))
}

// ReleaseRequest is the body of POST /api/holds/{id}/release.
type ReleaseRequest struct {
	// By is who releases the request (default: the credential's name).
	By string `json:"by"`
	// Reason says why; required.
	Reason string `json:"reason"`
}

func (h *Handler) release(r *http.Request, who *Identity) (*reply, error) {
	if h.opts.Holds == nil {
		return nil, fmt.Errorf("%w: holds are not managed by this gateway", errUnavailable)
	}
	var body ReleaseRequest
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if strings.TrimSpace(body.Reason) == "" {
		return nil, badRequest("reason is required: say why the held request is released")
	}
	if strings.TrimSpace(body.By) == "" {
		body.By = who.Name
	}
	hd, err := h.opts.Holds.Release(r.Context(), r.PathValue("id"), body.By, body.Reason)
	if err != nil {
		return nil, err
	}
	hd.Request.Header, hd.Request.Body = nil, nil
	return jsonReply(http.StatusOK, hd, 1)
}

// decodeBody reads a JSON body into v; an empty body leaves v as it is.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("the body is not the JSON object expected: %v", err)
	}
	return nil
}
