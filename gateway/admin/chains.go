package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/journal/verify"
)

// ChainList is the answer of GET /api/chains.
type ChainList struct {
	Chains []ChainInfo `json:"chains"`
}

// ChainInfo is one writer's hash chain and its head.
type ChainInfo struct {
	Name  string    `json:"name"`
	Seq   uint64    `json:"seq"`
	Hash  string    `json:"hash"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

func (h *Handler) chains(r *http.Request, _ *Identity) (*reply, error) {
	if err := only(r.URL.Query()); err != nil {
		return nil, err
	}
	cs, err := h.opts.Store.Chains(r.Context())
	if err != nil {
		return nil, err
	}
	out := ChainList{Chains: make([]ChainInfo, 0, len(cs))}
	for _, c := range cs {
		out.Chains = append(out.Chains, ChainInfo{Name: c.Name, Seq: c.Seq, Hash: c.Hash, First: c.First, Last: c.Last})
	}
	return jsonReply(http.StatusOK, out, len(out.Chains))
}

// VerifyRequest is the body of POST /api/verify.
type VerifyRequest struct {
	// From and To bound the window (RFC 3339 or dates); empty: open.
	From string `json:"from"`
	To   string `json:"to"`
	// Chains limits verification to these chains.
	Chains []string `json:"chains"`
	// ChainsOnly skips the projection check.
	ChainsOnly bool `json:"chains_only"`
}

// VerifyReply is the answer of POST /api/verify.
type VerifyReply struct {
	OK bool `json:"ok"`
	*verify.Report
}

func (h *Handler) verify(r *http.Request, _ *Identity) (*reply, error) {
	if len(h.opts.Keys) == 0 {
		return nil, fmt.Errorf("%w: no checkpoint key is configured", errUnavailable)
	}
	var body VerifyRequest
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	opts := verify.Options{Keys: h.opts.Keys, Chains: body.Chains, SkipRecords: body.ChainsOnly, Retention: h.opts.Retention,
		Transition: h.opts.Transition, Now: h.opts.Clock}
	var err error
	for _, b := range []struct {
		s   string
		t   *time.Time
		key string
	}{{body.From, &opts.From, "from"}, {body.To, &opts.To, "to"}} {
		if b.s == "" {
			continue
		}
		if *b.t, err = ParseTime(b.s); err != nil {
			return nil, badRequest("%s: %v", b.key, err)
		}
	}
	rep, err := verify.Run(r.Context(), h.opts.Store, opts)
	if err != nil {
		return nil, err
	}
	out, err := jsonReply(http.StatusOK, VerifyReply{OK: rep.OK(), Report: rep}, int(rep.Records.Checked))
	if err == nil {
		out.detail = url.Values{}
		for k, v := range map[string]string{"from": body.From, "to": body.To, "chains": strings.Join(body.Chains, ",")} {
			if v != "" {
				out.detail.Set(k, v)
			}
		}
		if body.ChainsOnly {
			out.detail.Set("chains_only", "true")
		}
	}
	return out, err
}
