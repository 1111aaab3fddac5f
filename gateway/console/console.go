package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// Options configure the console.
type Options struct {
	// API is the admin API handler (an *admin.Handler); required. The
	// console sends it in-process requests with the signed-in user's
	// credential.
	API http.Handler
	// Logger receives internal errors; never credentials or record
	// content.
	Logger *slog.Logger
	// Clock defaults to time.Now.
	Clock func() time.Time
	// IdleTimeout and MaxAge bound a session: idle 30 minutes and 12
	// hours in all by default.
	IdleTimeout, MaxAge time.Duration
	// MaxSessions bounds the sessions kept (default 10000); the oldest
	// is dropped beyond it.
	MaxSessions int
}

// Handler serves the console.
type Handler struct {
	opts     Options
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
	guard    *signinGuard
	static   http.Handler
}

// ErrNoAPI: Options.API is nil.
var ErrNoAPI = errors.New("console: the admin API handler is required")

// New returns the console handler, serving everything under /console/.
func New(opts Options) (*Handler, error) {
	if opts.API == nil {
		return nil, ErrNoAPI
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 12 * time.Hour
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 10000
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, fmt.Errorf("console: assets: %w", err)
	}
	h := &Handler{opts: opts, mux: http.NewServeMux(), pages: pages,
		sessions: newSessions(opts.Clock, opts.IdleTimeout, opts.MaxAge, opts.MaxSessions), guard: newSigninGuard(),
		static: http.StripPrefix(Prefix+"assets/", http.FileServerFS(static))}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.Handle("GET /console/assets/", h.static)
	m.HandleFunc("GET /console/signin", h.signinForm)
	m.HandleFunc("POST /console/signin", h.signin)
	m.HandleFunc("POST /console/signout", h.signed(h.signout))
	m.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"decisions", http.StatusSeeOther)
	})
	m.HandleFunc("GET /console/decisions", h.signed(h.decisions))
	m.HandleFunc("GET /console/decisions/{id}", h.signed(h.trace))
	m.HandleFunc("GET /console/policies", h.signed(h.policies))
	m.HandleFunc("GET /console/policies/{id}", h.signed(h.policy))
	m.HandleFunc("GET /console/reports", h.signed(h.reports))
	m.HandleFunc("GET /console/queues", h.signed(h.queues))
	m.HandleFunc("POST /console/holds/{id}/release", h.signed(h.release))
	m.HandleFunc("POST /console/notices/{id}/sent", h.signed(h.noticeSent))
	m.HandleFunc("GET /console/export", h.signed(h.exportForm))
	m.HandleFunc("POST /console/export", h.signed(h.export))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.notFound(w, r, h.sessions.get(r))
	})
}

// csp is the console's Content-Security-Policy: nothing inline, nothing
// from elsewhere.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.opts.Logger.Error("console: page failed", "path", r.URL.Path, "panic", fmt.Sprint(v))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	Session *session
	CSRF    string
	Flash   *flash
	Error   string
	Now     time.Time
	Data    any
}

// flash is a one-time message shown after a redirect.
type flash struct {
	Error bool
	Text  string
}

// render writes the named page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t := h.pages[name]
	if t == nil {
		h.opts.Logger.Error("console: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p.Session != nil {
		p.CSRF = p.Session.csrf
		if p.Flash == nil {
			p.Flash = h.sessions.takeFlash(p.Session)
		}
	}
	p.Now = h.opts.Clock().UTC()
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		h.opts.Logger.Error("console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", Session: s,
		Data: r.URL.Path})
}

// parsePages parses each page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("console").Funcs(funcs).ParseFS(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	names, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(n[strings.LastIndexByte(n, '/')+1:], ".html")
		if name == "layout" {
			continue
		}
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(assets, n)
		}
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}
