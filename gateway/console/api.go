package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"
)

// APIError is a refusal or failure the admin API answered, with the
// message of its OperationOutcome.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the API answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// Refused reports whether the API refused the credential's role.
func (e *APIError) Refused() bool { return e.Status == http.StatusForbidden }

// ErrDecode: the API's answer did not decode.
var ErrDecode = errors.New("console: the API's answer did not decode")

// result is an API answer.
type result struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// decode reads a successful answer into v.
func (res result) decode(v any) error {
	if res.err != nil {
		return res.err
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		return fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return nil
}

// apiRequest builds the in-process request to the API for the user of
// ss: the same host, TLS state and remote address as r, and the user's
// credential.
func apiRequest(r *http.Request, ss *session, method, path string, query url.Values, body any) (*http.Request, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("console: encode: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(r.Context(), method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("console: api request: %w", err)
	}
	req.Host, req.RemoteAddr, req.TLS = r.Host, r.RemoteAddr, r.TLS
	req.Header.Set("Authorization", "Bearer "+ss.credential)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call sends one request to the API and returns its answer; non-2xx
// answers come back as an *APIError.
func (h *Handler) call(r *http.Request, ss *session, method, path string, query url.Values, body any) result {
	req, err := apiRequest(r, ss, method, path, query, body)
	if err != nil {
		return result{err: err}
	}
	rec := &bufferWriter{header: http.Header{}}
	h.opts.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	res := result{status: rec.status, header: rec.header, body: rec.buf.Bytes()}
	if res.status < 200 || res.status > 299 {
		res.err = h.apiError(ss, res.status, res.body)
	}
	return res
}

// apiError reads a refusal of the API. A 401 means the session's
// credential is no longer accepted (an expired JWT, a revoked token): the
// session ends, so that the next page asks to sign in again.
func (h *Handler) apiError(ss *session, status int, body []byte) *APIError {
	e := outcomeError(status, body)
	if status == http.StatusUnauthorized && ss.id != "" { // not the sign-in check
		h.sessions.drop(ss)
		e.Message = "Your credential is no longer accepted (" + e.Error() + "); sign in again."
	}
	return e
}

// bufferWriter keeps an API answer whole: the JSON pages the console
// renders (exports, which can be large, go through streamWriter).
type bufferWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

// outcomeError reads an OperationOutcome into an *APIError.
func outcomeError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var oo struct {
		Issue []struct {
			Code    string `json:"code"`
			Details *struct {
				Text string `json:"text"`
			} `json:"details"`
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) == nil && len(oo.Issue) > 0 {
		is := oo.Issue[0]
		e.Code, e.Message = is.Code, is.Diagnostics
		if is.Details != nil && is.Details.Text != "" {
			e.Message = is.Details.Text
		}
		e.Message = readable(e.Message)
	}
	return e
}

// readable bounds a message and drops control characters.
func readable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// streamWriter passes a 200 answer straight through to w (an audit
// package can be large) and keeps anything else for the caller.
type streamWriter struct {
	w      http.ResponseWriter
	header http.Header
	status int
	buf    bytes.Buffer
}

func (s *streamWriter) Header() http.Header { return s.header }

func (s *streamWriter) WriteHeader(code int) {
	if s.status != 0 {
		return
	}
	s.status = code
	if code == http.StatusOK {
		for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Length", "X-Ehigate-Package-Key"} {
			if v := s.header.Get(k); v != "" {
				s.w.Header().Set(k, v)
			}
		}
		s.w.WriteHeader(code)
	}
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	if s.status == http.StatusOK {
		return s.w.Write(p)
	}
	if s.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return s.buf.Write(p)
}

// stream sends a request whose successful answer goes straight to w; it
// returns nil when it did, else the API's error (nothing written to w).
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, ss *session, method, path string, body any) error {
	req, err := apiRequest(r, ss, method, path, nil, body)
	if err != nil {
		return err
	}
	sw := &streamWriter{w: w, header: http.Header{}}
	h.opts.API.ServeHTTP(sw, req)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	if sw.status == http.StatusOK {
		return nil
	}
	return h.apiError(ss, sw.status, sw.buf.Bytes())
}
