package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ehigate/ehigate/decision/report"
	"github.com/ehigate/ehigate/decision/store"
)

// reportParams are the query parameters of GET /api/reports/{kind}.
var reportParams = []string{"from", "to", "format", "bucket", "within", "review_within", "min", "limit", "patient", "requester", "policy"}

// ParseReportParams reads the query of GET /api/reports/{kind}.
func ParseReportParams(v map[string][]string, now time.Time) (report.Params, string, error) {
	q := urlValues(v)
	p := report.Params{Now: now}
	if err := only(q, reportParams...); err != nil {
		return p, "", err
	}
	format := q.Get("format")
	switch format {
	case "":
		format = "json"
	case "json", "html":
	default:
		return p, "", badRequest("format: want json or html, got %q", format)
	}
	var err error
	if p.From, err = timeParam(q, "from"); err != nil {
		return p, "", err
	}
	if p.To, err = timeParam(q, "to"); err != nil {
		return p, "", err
	}
	if b := store.Bucket(q.Get("bucket")); b != "" {
		if !b.Valid() {
			return p, "", badRequest("bucket: want day, week or month, got %q", b)
		}
		p.Bucket = b
	}
	if p.NoticeHorizon, err = durationParam(q, "within", 0); err != nil {
		return p, "", err
	}
	if p.ReviewHorizon, err = durationParam(q, "review_within", 0); err != nil {
		return p, "", err
	}
	if p.MinRepeat, err = intParam(q, "min", 0, 1, 1000000); err != nil {
		return p, "", err
	}
	if p.Limit, err = intParam(q, "limit", 0, 1, 10000); err != nil {
		return p, "", err
	}
	p.Filter = report.Filter{Patient: q.Get("patient"), Requester: q.Get("requester"), Policy: q.Get("policy")}
	return p, format, nil
}

func (h *Handler) report(r *http.Request, _ *Identity) (*reply, error) {
	p, format, err := ParseReportParams(r.URL.Query(), h.opts.Clock())
	if err != nil {
		return nil, err
	}
	p.Policies = h.opts.Policies()
	kind := r.PathValue("kind")
	var results []report.Result
	title := "Compliance report"
	if kind == "all" {
		if results, err = report.All(r.Context(), h.opts.Store, p); err != nil {
			return nil, err
		}
	} else {
		k, err := report.ParseKind(kind)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNotFound, err)
		}
		res, err := report.Run(r.Context(), h.opts.Store, k, p)
		if err != nil {
			return nil, err
		}
		results, title = []report.Result{res}, report.TitleOf(k)
	}
	if format == "html" {
		var b bytes.Buffer
		if err := report.WriteHTML(&b, title, p.Now, results...); err != nil {
			return nil, err
		}
		return &reply{status: http.StatusOK, contentType: "text/html; charset=utf-8", body: b.Bytes(),
			header: http.Header{"Content-Security-Policy": {"default-src 'none'; style-src 'unsafe-inline'"}}}, nil
	}
	var v any = results
	if len(results) == 1 && kind != "all" {
		v = results[0]
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return &reply{status: http.StatusOK, contentType: "application/json", body: append(b, '\n')}, nil
}
