package demo

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Options configures a Server. The zero value serves at the root with the
// defaults below.
type Options struct {
	// BasePath is the path prefix served, e.g. "/fhir" ("" serves the root).
	BasePath string
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// PageSize is the page size when a search has no _count; default 20.
	PageSize int
	// MaxPageSize caps _count; default 1000.
	MaxPageSize int
	// ExportPolls is how many status polls of a Bulk Data export answer
	// 202 (in progress) before the manifest; default 2, negative for none.
	ExportPolls int
}

// Server is an in-memory FHIR R4 server. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	base  string
	clock func() time.Time
	lim   limits
	polls int
	st    *store
	jobs  *jobs
}

// maxBody bounds request bodies (the largest Synthea Bundles are ~3 MB).
const maxBody = 64 << 20

// NewServer returns an empty server.
func NewServer(opts Options) *Server {
	s := &Server{
		base:  "/" + strings.Trim(opts.BasePath, "/"),
		clock: opts.Clock,
		lim:   limits{def: opts.PageSize, max: opts.MaxPageSize},
		polls: opts.ExportPolls,
		st:    newStore(),
		jobs:  newJobs(),
	}
	if s.base == "/" {
		s.base = ""
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.lim.max <= 0 {
		s.lim.max = 1000
	}
	if s.lim.def <= 0 {
		s.lim.def = min(20, s.lim.max)
	}
	switch {
	case s.polls == 0:
		s.polls = 2
	case s.polls < 0:
		s.polls = 0
	}
	return s
}

// now returns the clock's time at the millisecond precision stored in meta.
func (s *Server) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// call is one request being served.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	base   string // absolute base URL, e.g. http://127.0.0.1:8080/fhir
	path   string // path below the base, without slashes around it
	vals   url.Values
	prefer prefer
	token  string // the _getpages token when resuming a search
}

// prefer is the Prefer request header.
type prefer struct {
	ret    string // minimal, representation, OperationOutcome
	strict bool
	async  bool
}

func parsePrefer(h http.Header) prefer {
	var p prefer
	for _, line := range h.Values("Prefer") {
		for _, part := range strings.Split(line, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch strings.TrimSpace(k) {
			case "return":
				p.ret = v
			case "handling":
				p.strict = v == "strict"
			case "respond-async":
				p.async = true
			}
		}
	}
	return p
}

// ServeHTTP serves one FHIR request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header) {
		gw := newGzipWriter(w)
		defer gw.Close()
		w = gw
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	c := &call{s: s, w: w, r: r, base: scheme + "://" + r.Host + s.base, vals: r.URL.Query(), prefer: parsePrefer(r.Header)}
	rest, ok := strings.CutPrefix(r.URL.Path, s.base)
	if !ok || (rest != "" && rest[0] != '/') {
		c.fail(newError(http.StatusNotFound, "not-found", "no FHIR endpoint at this path"))
		return
	}
	c.path = strings.Trim(rest, "/")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	c.route()
}

// header sets the FHIR JSON content type.
func (c *call) header(contentType string) http.Header {
	h := c.w.Header()
	h.Set("Content-Type", contentType)
	return h
}

const fhirJSON = "application/fhir+json; charset=utf-8"

// send writes a JSON body.
func (c *call) send(status int, body []byte) {
	c.header(fhirJSON)
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

// fail answers with an OperationOutcome for err.
func (c *call) fail(err error) {
	status, body := errorOutcome(err)
	var se *statusError
	if errors.As(err, &se) && se.allow != "" {
		c.w.Header().Set("Allow", se.allow)
	}
	c.send(status, body)
}

// notAllowed returns the 405 error for a path that takes only allow.
func notAllowed(allow ...string) error {
	a := strings.Join(allow, ", ")
	return &statusError{status: http.StatusMethodNotAllowed, code: "not-supported", msg: "method not allowed; allowed: " + a, allow: a}
}

// versionHeaders sets ETag and Last-Modified for v.
func (c *call) versionHeaders(v *version) {
	h := c.w.Header()
	h.Set("ETag", v.etag())
	h.Set("Last-Modified", v.updated.UTC().Format(http.TimeFormat))
}

// location returns the absolute versioned URL of v.
func (c *call) location(v *version) string {
	return c.base + "/" + v.typ + "/" + v.id + "/_history/" + strconv.Itoa(v.vid)
}

// sendVersion answers a read or vread with v.
func (c *call) sendVersion(v *version) {
	c.versionHeaders(v)
	c.w.Header().Set("Content-Location", c.location(v))
	c.send(http.StatusOK, v.raw)
}

// sendWrite answers a create, update or patch according to Prefer: return.
func (c *call) sendWrite(status int, v *version) {
	c.versionHeaders(v)
	loc := c.location(v)
	c.w.Header().Set("Location", loc)
	c.w.Header().Set("Content-Location", loc)
	switch c.prefer.ret {
	case "minimal":
		c.w.WriteHeader(status)
	case "OperationOutcome":
		c.send(status, appendOutcome(nil, "information", "informational", statusLine(status)+": "+v.typ+"/"+v.id))
	default:
		c.send(status, v.raw)
	}
}
