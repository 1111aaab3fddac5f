package fhir

import (
	"net/http"
	"strconv"
	"strings"
)

// formatOf maps a _format value or a media type (parameters ignored) to a
// Format. A space stands for "+", since a "+" sent unencoded in a query
// string decodes to a space.
func formatOf(v string) Format {
	v, _, _ = strings.Cut(v, ";")
	v = strings.TrimSpace(v)
	if v == "" {
		return FormatUnspecified
	}
	if strings.IndexByte(v, ' ') >= 0 {
		v = strings.ReplaceAll(v, " ", "+")
	}
	for _, f := range formatNames {
		if strings.EqualFold(v, f.name) {
			return f.format
		}
	}
	return FormatOther
}

// formatNames are the _format shorthands and media types of R4
// (http.html#mime-type), of Bulk Data, and of the older "+fhir" forms.
var formatNames = [...]struct {
	name   string
	format Format
}{
	{"json", FormatJSON},
	{"application/fhir+json", FormatJSON},
	{"application/json", FormatJSON},
	{"application/json+fhir", FormatJSON},
	{"text/json", FormatJSON},
	{"application/json-patch+json", FormatJSON},
	{"xml", FormatXML},
	{"application/fhir+xml", FormatXML},
	{"application/xml", FormatXML},
	{"application/xml+fhir", FormatXML},
	{"text/xml", FormatXML},
	{"application/xml-patch+xml", FormatXML},
	{"ttl", FormatTurtle},
	{"turtle", FormatTurtle},
	{"application/fhir+turtle", FormatTurtle},
	{"text/turtle", FormatTurtle},
	{"ndjson", FormatNDJSON},
	{"application/fhir+ndjson", FormatNDJSON},
	{"application/ndjson", FormatNDJSON},
	{"application/x-ndjson", FormatNDJSON},
}

// acceptFormat picks the format an Accept header asks for: the recognised
// media type with the highest q (the first on a tie). Wildcards alone give
// FormatUnspecified; only unrecognised types give FormatOther.
func acceptFormat(values []string) Format {
	best, bestQ := FormatUnspecified, -1.0
	other := false
	for _, hv := range values {
		for hv != "" {
			var item string
			item, hv, _ = strings.Cut(hv, ",")
			mt, params, _ := strings.Cut(item, ";")
			mt = strings.TrimSpace(mt)
			if mt == "" || strings.HasSuffix(mt, "/*") {
				continue
			}
			q := qValue(params)
			if q <= 0 {
				continue
			}
			f := formatOf(mt)
			if f == FormatOther {
				other = true
				continue
			}
			if q > bestQ {
				best, bestQ = f, q
			}
		}
	}
	if best == FormatUnspecified && other {
		return FormatOther
	}
	return best
}

// qValue returns the q parameter of a media range's parameters (1 when
// absent or unparsable).
func qValue(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 1
			}
			return q
		}
	}
	return 1
}

// preferAsync reports whether the Prefer header holds respond-async.
func preferAsync(h http.Header) bool {
	for _, hv := range h.Values("Prefer") {
		for hv != "" {
			var item string
			item, hv, _ = strings.Cut(hv, ",")
			tok, _, _ := strings.Cut(item, ";")
			tok, _, _ = strings.Cut(tok, "=")
			if strings.EqualFold(strings.TrimSpace(tok), "respond-async") {
				return true
			}
		}
	}
	return false
}

// isFormType reports whether a Content-Type is form encoding.
func isFormType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// setFormats sets Format, BodyFormat and Async from _format and the
// headers. _format wins over Accept; with neither, a request with a body is
// answered in the body's format.
func setFormats(req *Request, h http.Header) {
	if ct := h.Get("Content-Type"); ct != "" && !isFormType(ct) {
		req.BodyFormat = formatOf(ct)
	} else if ct != "" {
		req.BodyFormat = FormatOther
	}
	req.Format = FormatUnspecified
	for i := range req.Params {
		if p := &req.Params[i]; p.Name == "_format" && len(p.Values) > 0 {
			req.Format = formatOf(p.Values[0])
		}
	}
	if req.Format == FormatUnspecified {
		req.Format = acceptFormat(h.Values("Accept"))
	}
	if req.Format == FormatUnspecified && req.BodyFormat != FormatOther {
		req.Format = req.BodyFormat
	}
	req.Async = preferAsync(h)
}
