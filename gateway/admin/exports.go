package admin

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision/export"
	"github.com/ehigate/ehigate/decision/report"
)

// ExportRequest is the body of POST /api/exports.
type ExportRequest struct {
	// From (required) and To bound the records (RFC 3339 or dates); To
	// defaults to now.
	From string `json:"from"`
	To   string `json:"to"`
	// Patient, Requester (token subject) and Policy narrow the records.
	Patient   string `json:"patient"`
	Requester string `json:"requester"`
	Policy    string `json:"policy"`
}

// export writes an audit package to a temporary file, then (once the
// access is journaled) streams it back.
func (h *Handler) export(r *http.Request, _ *Identity) (*reply, error) {
	xo := h.opts.Export
	if xo == nil || len(xo.Key) == 0 {
		return nil, fmt.Errorf("%w: audit packages need the journal's signing key (journal.signing_key)", errUnavailable)
	}
	var body ExportRequest
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if body.From == "" {
		return nil, badRequest("from is required: the start of the window")
	}
	opts := export.Options{Key: xo.Key, PublicKeys: xo.PublicKeys, Transition: h.opts.Transition, Events: h.opts.Events,
		Catalog: h.opts.Catalog, CreatedBy: xo.CreatedBy, TempDir: xo.TempDir, Now: h.opts.Clock,
		Filter: export.Filter{Patient: body.Patient, Requester: body.Requester, Policy: body.Policy}}
	var err error
	if opts.From, err = ParseTime(body.From); err != nil {
		return nil, badRequest("from: %v", err)
	}
	if body.To != "" {
		if opts.To, err = ParseTime(body.To); err != nil {
			return nil, badRequest("to: %v", err)
		}
	}
	opts.Report = report.PackageReport(r.Context(), h.opts.Store, h.opts.Policies())
	f, err := os.CreateTemp(xo.TempDir, "ehigate-package-*.zip")
	if err != nil {
		return nil, fmt.Errorf("admin: export: %w", err)
	}
	man, err := export.Export(r.Context(), h.opts.Store, f, opts)
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	name := "ehigate-audit-" + strings.NewReplacer(":", "", "-", "").Replace(man.Window.From.Format("20060102T150405Z")) + ".zip"
	detail := url.Values{"from": {man.Window.From.Format(time.RFC3339Nano)}, "to": {man.Window.To.Format(time.RFC3339Nano)}}
	for k, v := range map[string]string{"patient": body.Patient, "requester": body.Requester, "policy": body.Policy} {
		if v != "" {
			detail.Set(k, v)
		}
	}
	return &reply{status: http.StatusOK, contentType: "application/zip", file: f, size: size, count: man.Records, detail: detail,
		header: http.Header{"Content-Disposition": {`attachment; filename="` + name + `"`},
			"X-Ehigate-Package-Key": {man.KeyID}}}, nil
}
