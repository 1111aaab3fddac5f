package admin

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/fhir/audit"
	"github.com/ehigate/ehigate/fhir/outcome"
	"github.com/ehigate/ehigate/gateway/hold"
)

// Journal is where access entries and officers' transitions go: the
// gateway's journal Writer (decision/journal.Writer implements it).
type Journal = hold.Journal

// Options configure the admin handler.
type Options struct {
	// Store holds the records.
	Store store.Store
	// Journal is the gateway's journal writer.
	Journal Journal
	// Credentials identify requests (nil: every API request is refused).
	Credentials *Credentials
	// Holds releases held requests (nil: releases are unavailable).
	Holds *hold.Manager
	// Policies returns the policy set in force.
	Policies func() *policy.Set
	// Catalog is the exception catalog (default: the embedded one).
	Catalog *exceptions.Catalog
	// Events builds AuditEvents (default: audit.NewBuilder with no server).
	Events *audit.Builder
	// Keys are the trusted checkpoint keys, for /api/verify.
	Keys journal.Keyring
	// Transition replays a transition entry on a record (verify, export).
	Transition func(*decision.Record, decision.Transition) error
	// Retention is journal.retention, for /api/verify.
	Retention time.Duration
	// Export signs audit packages (nil: /api/exports is unavailable).
	Export *ExportOptions
	// Ready answers /readyz (nil: always ready).
	Ready http.Handler
	// Metrics answers /metrics (nil: 404).
	Metrics http.Handler
	// BaseURL is the admin listener's URL as clients reach it, for
	// absolute links (default: from each request).
	BaseURL string
	// Logger receives errors; never tokens or record content.
	Logger *slog.Logger
	// Clock defaults to time.Now.
	Clock func() time.Time
}

// ExportOptions say how audit packages are signed and written.
type ExportOptions struct {
	// Key is the journal's signing key; it signs manifest.sig.
	Key ed25519.PrivateKey
	// PublicKeys are older checkpoint keys shipped in packages.
	PublicKeys []ed25519.PublicKey
	// TempDir holds a package while it is written (default os.TempDir()).
	TempDir string
	// CreatedBy names the tool in the manifest.
	CreatedBy string
}

// Handler serves the admin listener.
type Handler struct {
	opts Options
	mux  *http.ServeMux
}

// maxBody bounds the JSON body of a POST.
const maxBody = 1 << 20

// New returns the admin handler.
func New(opts Options) (*Handler, error) {
	if opts.Store == nil || opts.Journal == nil {
		return nil, errors.New("admin: a store and a journal are required")
	}
	if opts.Catalog == nil {
		cat, err := exceptions.Load()
		if err != nil {
			return nil, err
		}
		opts.Catalog = cat
	}
	if opts.Events == nil {
		opts.Events = audit.NewBuilder(audit.Options{})
	}
	if opts.Policies == nil {
		opts.Policies = func() *policy.Set { return nil }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	h := &Handler{opts: opts, mux: http.NewServeMux()}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Ready == nil {
			io.WriteString(w, "ready\n")
			return
		}
		h.opts.Ready.ServeHTTP(w, r)
	})
	m.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Metrics == nil {
			outcome.New(outcome.Error, "not-found", "metrics are off (telemetry.prometheus)").Write(w, http.StatusNotFound)
			return
		}
		h.opts.Metrics.ServeHTTP(w, r)
	})
	read, officer := RoleAuditor, RoleOfficer
	m.Handle("GET /api/records", h.api(read, h.records))
	m.Handle("GET /api/records/{id}", h.api(read, h.record))
	m.Handle("GET /api/records/{id}/trace", h.api(read, h.trace))
	m.Handle("GET /api/policies", h.api(read, h.policies))
	m.Handle("GET /api/policies/{id}", h.api(read, h.policyVersions))
	m.Handle("GET /api/holds", h.api(read, h.holds))
	m.Handle("POST /api/holds/{id}/release", h.api(officer, h.release))
	m.Handle("GET /api/notices", h.api(read, h.notices))
	m.Handle("POST /api/notices/{id}/sent", h.api(officer, h.noticeSent))
	m.Handle("GET /api/chains", h.api(read, h.chains))
	m.Handle("POST /api/verify", h.api(read, h.verify))
	m.Handle("GET /api/reports/{kind}", h.api(read, h.report))
	m.Handle("POST /api/exports", h.api(read, h.export))
	m.Handle("GET /fhir/AuditEvent", h.api(read, h.auditEvents))
	m.Handle("GET /fhir/AuditEvent/{id}", h.api(read, h.auditEvent))
	m.Handle("/", h.api(read, func(r *http.Request, _ *Identity) (*reply, error) {
		return nil, fmt.Errorf("%w: no %s %s here (see docs/admin-api.md)", errNotFound, r.Method, r.URL.Path)
	}))
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// reply is what an API handler answers, written once its access is
// journaled.
type reply struct {
	status      int
	contentType string
	header      http.Header
	body        []byte
	// file, when set, is streamed instead of body and removed after.
	file *os.File
	size int64
	// count is how many records (or items) the answer holds.
	count int
	// detail adds to the access entry's What what a POST body asked for
	// (e.g. an export's window and filter), as query parameters.
	detail url.Values
}

type apiFunc func(r *http.Request, who *Identity) (*reply, error)

// Errors answered with a client status.
var (
	errBadRequest  = errors.New("bad request")
	errNotFound    = errors.New("not found")
	errConflict    = errors.New("conflict")
	errUnavailable = errors.New("unavailable")
)

// badRequest wraps a parameter problem.
func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, a...))
}

// api authenticates and authorises a request, runs fn, journals the
// access durably, and only then writes fn's answer.
func (h *Handler) api(need Role, fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		who, err := h.opts.Credentials.Identify(r)
		switch {
		case err != nil && !errors.Is(err, ErrNoRole):
			actor := "anonymous"
			if tag := tokenTag(r); tag != "" {
				actor = "unknown-token:" + tag
			}
			h.submitAccess(r, actor, "", http.StatusUnauthorized)
			challenge := `Bearer realm="ehigate-admin"`
			msg := "this API needs its own credentials: a bearer token or a JWT with an admin role"
			if errors.Is(err, ErrBadCredentials) {
				challenge += `, error="invalid_token"`
				msg = "the bearer token is not valid here"
			}
			w.Header().Set("WWW-Authenticate", challenge)
			outcome.New(outcome.Error, "login", msg).Write(w, http.StatusUnauthorized)
			return
		case who.Role < need:
			h.submitAccess(r, who.Name, who.Role.String(), http.StatusForbidden)
			msg := fmt.Sprintf("the %s role may not %s %s", who.Role, r.Method, r.URL.Path)
			if who.Role == RoleNone {
				msg = "the token grants no admin role"
			}
			outcome.New(outcome.Error, "forbidden", msg).Write(w, http.StatusForbidden)
			return
		}
		rep, err := fn(r, who)
		if err != nil {
			rep = h.errorReply(r, err)
		}
		if rep.file != nil {
			defer func() {
				rep.file.Close()
				os.Remove(rep.file.Name())
			}()
		}
		// Nothing leaves before the access is durable.
		if err := h.appendAccess(r, who, rep.status, rep.count, rep.detail); err != nil {
			h.opts.Logger.Error("admin: access not journaled; answer withheld", "path", r.URL.Path, "err", err)
			outcome.New(outcome.Error, "transient", "the access could not be recorded, so nothing is returned; retry later").Write(w, http.StatusServiceUnavailable)
			return
		}
		h.write(w, rep)
	})
}

func (h *Handler) write(w http.ResponseWriter, rep *reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	if rep.file != nil {
		w.Header().Set("Content-Length", fmt.Sprint(rep.size))
		w.WriteHeader(rep.status)
		if _, err := rep.file.Seek(0, io.SeekStart); err == nil {
			io.Copy(w, rep.file)
		}
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(rep.body)))
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}

// errorReply turns an error into an OperationOutcome answer.
func (h *Handler) errorReply(r *http.Request, err error) *reply {
	status, code, msg := http.StatusInternalServerError, "exception", "internal error"
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errBadRequest), errors.Is(err, store.ErrBadCursor), errors.Is(err, store.ErrBadAggregate):
		status, code, msg = http.StatusBadRequest, "invalid", clientMessage(err)
	case errors.As(err, &mbe):
		status, code, msg = http.StatusRequestEntityTooLarge, "too-long", "the request body is too large"
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		status, code, msg = http.StatusNotFound, "not-found", clientMessage(err)
	case errors.Is(err, hold.ErrUnsettled):
		status, code, msg = http.StatusConflict, "conflict", "the held request's record is still being completed: retry in a moment"
	case errors.Is(err, errConflict), errors.Is(err, hold.ErrState), errors.Is(err, store.ErrHoldConflict):
		status, code, msg = http.StatusConflict, "conflict", clientMessage(err)
	case errors.Is(err, errUnavailable), errors.Is(err, store.ErrUnavailable):
		status, code, msg = http.StatusServiceUnavailable, "transient", clientMessage(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status, code, msg = http.StatusServiceUnavailable, "timeout", "the request was cancelled or took too long"
	default:
		h.opts.Logger.Error("admin: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	rep := &reply{status: status, contentType: "application/fhir+json", body: outcome.New(outcome.Error, code, msg).JSON()}
	if errors.Is(err, hold.ErrUnsettled) {
		rep.header = http.Header{"Retry-After": {"1"}}
	}
	return rep
}

// clientMessage is err's text without the sentinel's prefix.
func clientMessage(err error) string {
	s := err.Error()
	for _, p := range []string{"bad request: ", "not found: ", "conflict: ", "unavailable: "} {
		if i := strings.Index(s, p); i >= 0 {
			return s[i+len(p):]
		}
	}
	return s
}

// access is the access entry of a request.
func (h *Handler) access(r *http.Request, actor, role string, status, count int) (string, decision.Access) {
	id := ulid.MustNew(ulid.Timestamp(h.opts.Clock()), rand.Reader).String()
	return id, decision.Access{ID: id, At: h.opts.Clock().UTC(), Actor: actor, Role: role, What: What(r), Status: status, Count: count}
}

// appendAccess journals a request durably.
func (h *Handler) appendAccess(r *http.Request, who *Identity, status, count int, detail url.Values) error {
	id, a := h.access(r, who.Name, who.Role.String(), status, count)
	if len(detail) > 0 {
		sep := "?"
		if strings.Contains(a.What, "?") {
			sep = "&"
		}
		a.What += sep + detail.Encode()
		if len(a.What) > maxWhat {
			a.What = a.What[:maxWhat]
		}
	}
	_, err := h.opts.Journal.Append(r.Context(), decision.KindAccess, id, a, nil)
	return err
}

// submitAccess journals a refused request without waiting: no record
// data is returned to it.
func (h *Handler) submitAccess(r *http.Request, actor, role string, status int) {
	id, a := h.access(r, actor, role, status, 0)
	if err := h.opts.Journal.Submit(decision.KindAccess, id, a, nil); err != nil {
		h.opts.Logger.Warn("admin: refused request not journaled", "path", r.URL.Path, "err", err)
	}
}

// maxWhat bounds the What of an access entry.
const maxWhat = 2048

// What describes a request for its access entry: the method, the path
// and the query with its parameters sorted by name (values in the order
// given), e.g. "GET /api/records?action=deny&patient=p1".
func What(r *http.Request) string {
	s := r.Method + " " + r.URL.EscapedPath()
	if q := r.URL.Query(); len(q) > 0 {
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		for _, k := range keys {
			for _, v := range q[k] {
				if b.Len() > 0 {
					b.WriteByte('&')
				}
				b.WriteString(url.QueryEscape(k))
				b.WriteByte('=')
				b.WriteString(url.QueryEscape(v))
			}
		}
		s += "?" + b.String()
	}
	if len(s) > maxWhat {
		s = s[:maxWhat]
	}
	return s
}

// base returns the admin listener's absolute base URL.
func (h *Handler) base(r *http.Request) string {
	if h.opts.BaseURL != "" {
		return h.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
