package fhir

import (
	"net/http"
	"strings"
)

// ClassifierOptions configures a Classifier.
type ClassifierOptions struct {
	// BulkLookup, when set, is asked about a path (escaped, as passed to
	// Classify) that the REST grammar does not accept. It reports
	// BulkStatus or BulkFile for the Bulk Data status and output-file URLs
	// the gateway learned; any other answer is ignored.
	BulkLookup func(path string) (Interaction, bool)
	// MaxBodyBytes bounds the body ClassifyBody reads (default
	// DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxEntries bounds the entries of a batch or transaction (default
	// DefaultMaxEntries): each classified entry costs a few hundred bytes
	// whatever its size in the body.
	MaxEntries int
}

// The defaults of ClassifierOptions.
const (
	DefaultMaxBodyBytes = 64 << 20
	DefaultMaxEntries   = 20000
)

// Classifier turns FHIR R4 requests into Requests. It holds no per-request
// state and is safe for concurrent use.
type Classifier struct {
	bulk       func(string) (Interaction, bool)
	maxBody    int64
	maxEntries int
}

// NewClassifier returns a Classifier.
func NewClassifier(opts ClassifierOptions) *Classifier {
	c := &Classifier{bulk: opts.BulkLookup, maxBody: opts.MaxBodyBytes, maxEntries: opts.MaxEntries}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.maxEntries <= 0 {
		c.maxEntries = DefaultMaxEntries
	}
	return c
}

// Classify classifies a request from its method, its path relative to the
// FHIR base (escaped form, as in url.URL.EscapedPath with the base prefix
// removed, no leading slash, "" for the base itself), its raw query string
// and headers. HEAD is classified like GET. Errors are *ClassifyError.
func (c *Classifier) Classify(method, escapedPath, rawQuery string, h http.Header) (*Request, error) {
	req := &Request{Method: method}
	if err := route(req, method, escapedPath, rawQuery, h.Get("If-None-Exist"), false); err != nil {
		// Only a path outside the grammar costs a lookup of learned URLs.
		if bulk, ok, berr := c.bulkRequest(method, escapedPath, h); ok {
			return bulk, berr
		}
		return nil, err
	}
	setFormats(req, h)
	derive(req)
	return req, nil
}

// bulkRequest classifies a Bulk Data status or file URL the gateway
// learned; ok is false for any other path.
func (c *Classifier) bulkRequest(method, escapedPath string, h http.Header) (*Request, bool, error) {
	if c.bulk == nil {
		return nil, false, nil
	}
	it, ok := c.bulk(escapedPath)
	if !ok || (it != BulkStatus && it != BulkFile) {
		return nil, false, nil
	}
	if !isGet(method) && !(it == BulkStatus && method == http.MethodDelete) {
		return nil, true, classifyErr(ErrMethodNotAllowed, "method not allowed for a bulk data URL")
	}
	req := &Request{Method: method, Interaction: it}
	req.Format = acceptFormat(h.Values("Accept"))
	req.Async = preferAsync(h)
	return req, true, nil
}

// isGet reports whether method reads (GET or HEAD).
func isGet(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// route sets the interaction, level, type, ids, operation, compartment and
// parameters from the method, path and query. In a Bundle entry (entry
// true) a batch or transaction is not allowed and no body is pending.
func route(req *Request, method, escapedPath, rawQuery, ifNoneExist string, entry bool) error {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return classifyErr(ErrMethodNotAllowed, "unsupported method")
	}
	segs, err := splitPath(escapedPath)
	if err != nil {
		return err
	}
	if req.Params, err = ParseParams(rawQuery); err != nil {
		return err
	}
	s := segs.s[:segs.n]
	if len(s) == 0 {
		return routeBase(req, method, entry)
	}
	switch s0 := s[0]; {
	case s0 == "metadata":
		return routeSingle(req, s, method, Capabilities, LevelNone, isGet(method))
	case s0 == ".well-known":
		if len(s) != 2 || s[1] != "smart-configuration" {
			return classifyErr(ErrMalformedPath, "unknown .well-known path")
		}
		return routeSingle(req, s[1:], method, SmartConfiguration, LevelNone, isGet(method))
	case s0 == "_history":
		return routeSingle(req, s, method, HistorySystem, LevelSystem, isGet(method))
	case s0 == "_search":
		req.NeedsBody = !entry
		return routeSingle(req, s, method, SearchSystem, LevelNone, method == http.MethodPost)
	case s0[0] == '$':
		return routeOperation(req, s, method, LevelSystem, entry)
	}
	if !IsResourceType(s[0]) {
		return classifyErr(ErrUnknownResourceType, "")
	}
	req.ResourceType = s[0]
	if len(s) == 1 {
		return routeType(req, method, rawQuery, ifNoneExist, entry)
	}
	switch s1 := s[1]; {
	case s1 == "_search":
		req.NeedsBody = !entry
		return routeSingle(req, s[1:], method, SearchType, LevelNone, method == http.MethodPost)
	case s1 == "_history":
		return routeSingle(req, s[1:], method, HistoryType, LevelType, isGet(method))
	case s1[0] == '$':
		return routeOperation(req, s[1:], method, LevelType, entry)
	}
	if !ValidID(s[1]) {
		return classifyErr(ErrInvalidID, "invalid id in path")
	}
	if len(s) == 2 {
		req.ID = s[1]
		return routeInstance(req, method, entry)
	}
	switch s2 := s[2]; {
	case s2 == "_history":
		req.ID = s[1]
		return routeHistory(req, s[3:], method, entry)
	case s2[0] == '$':
		req.ID = s[1]
		return routeOperation(req, s[2:], method, LevelInstance, entry)
	}
	return routeCompartment(req, s, method, entry)
}

// routeSingle handles a path whose last segment s[0] ends the grammar:
// anything after it is malformed, and ok says whether the method fits.
func routeSingle(req *Request, s []string, method string, it Interaction, level Level, ok bool) error {
	if len(s) != 1 {
		return classifyErr(ErrMalformedPath, "unexpected segments after "+s[0])
	}
	if !ok {
		return methodErr(method, s[0])
	}
	req.Interaction, req.Level = it, level
	return nil
}

// routeBase handles [base]: search-system by GET, batch or transaction by
// POST (decided by the body's Bundle.type).
func routeBase(req *Request, method string, entry bool) error {
	switch {
	case isGet(method):
		req.Interaction = SearchSystem
	case method == http.MethodPost && !entry:
		req.NeedsBody = true
	default:
		return methodErr(method, "the base")
	}
	return nil
}

// routeType handles [base]/Type: search, create, and conditional update,
// patch and delete.
func routeType(req *Request, method, rawQuery, ifNoneExist string, entry bool) error {
	switch method {
	case http.MethodGet, http.MethodHead:
		req.Interaction = SearchType
		return nil
	case http.MethodPost:
		req.Interaction = Create
		req.NeedsBody = !entry
		if ifNoneExist == "" {
			return nil
		}
		req.Conditional = true
		_, q, found := strings.Cut(ifNoneExist, "?")
		if !found {
			q = ifNoneExist
		}
		crit, err := ParseParams(q)
		if err != nil {
			return err
		}
		req.Params = append(req.Params, crit...)
		return nil
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		if rawQuery == "" {
			return classifyErr(ErrMethodNotAllowed, method+" on a type needs search criteria")
		}
		req.Conditional = true
		switch method {
		case http.MethodPut:
			req.Interaction, req.NeedsBody = Update, !entry
		case http.MethodPatch:
			req.Interaction, req.NeedsBody = Patch, !entry
		default:
			req.Interaction = Delete
		}
		return nil
	}
	return methodErr(method, req.ResourceType)
}

// routeInstance handles [base]/Type/id.
func routeInstance(req *Request, method string, entry bool) error {
	switch method {
	case http.MethodGet, http.MethodHead:
		req.Interaction = Read
	case http.MethodPut:
		req.Interaction, req.NeedsBody = Update, !entry
	case http.MethodPatch:
		req.Interaction, req.NeedsBody = Patch, !entry
	case http.MethodDelete:
		req.Interaction = Delete
	default:
		return methodErr(method, req.ResourceType+" instance")
	}
	return nil
}

// routeHistory handles what follows [base]/Type/id/_history.
func routeHistory(req *Request, s []string, method string, entry bool) error {
	switch len(s) {
	case 0:
		if !isGet(method) {
			return methodErr(method, "_history")
		}
		req.Interaction, req.Level = HistoryInstance, LevelInstance
		return nil
	case 1, 2:
		if !ValidID(s[0]) {
			return classifyErr(ErrInvalidID, "invalid version id in path")
		}
		req.VersionID = s[0]
		if len(s) == 2 {
			if s[1][0] != '$' {
				return classifyErr(ErrMalformedPath, "unexpected segment after a version")
			}
			return routeOperation(req, s[1:], method, LevelInstance, entry)
		}
		if !isGet(method) {
			return methodErr(method, "a version")
		}
		req.Interaction = VRead
		return nil
	}
	return classifyErr(ErrMalformedPath, "unexpected segments after a version")
}

// routeOperation handles $name at the given level; s[0] is the "$name"
// segment.
func routeOperation(req *Request, s []string, method string, level Level, entry bool) error {
	if len(s) != 1 {
		return classifyErr(ErrMalformedPath, "unexpected segments after an operation")
	}
	name := s[0][1:]
	if !isOpName(name) {
		return classifyErr(ErrMalformedPath, "invalid operation name")
	}
	switch method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		req.NeedsBody = !entry
	default:
		return methodErr(method, "an operation")
	}
	req.Interaction, req.Level, req.Operation = Operation, level, name
	return nil
}

// routeCompartment handles [base]/Compartment/id/Type (or "*"), optionally
// followed by _search.
func routeCompartment(req *Request, s []string, method string, entry bool) error {
	if !isCompartmentType(s[0]) {
		return classifyErr(ErrMalformedPath, req.ResourceType+" is not a compartment")
	}
	if s[2] != "*" && !IsResourceType(s[2]) {
		return classifyErr(ErrUnknownResourceType, "")
	}
	req.Compartment = Compartment{Type: s[0], ID: s[1]}
	req.ResourceType = s[2]
	switch {
	case len(s) == 3:
		if !isGet(method) {
			return methodErr(method, "a compartment search")
		}
	case len(s) == 4 && s[3] == "_search":
		if method != http.MethodPost {
			return methodErr(method, "_search")
		}
		req.NeedsBody = !entry
	default:
		return classifyErr(ErrMalformedPath, "unexpected segments after a compartment search")
	}
	req.Interaction = SearchType
	return nil
}

// methodErr is ErrMethodNotAllowed naming the method and what it was sent
// to (a fixed word or a resource type, never an id).
func methodErr(method, target string) error {
	return classifyErr(ErrMethodNotAllowed, method+" not allowed on "+target)
}

// isOpName reports whether s is a plausible operation code.
func isOpName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
