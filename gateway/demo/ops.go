package demo

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// result is the outcome of a write: the status to report and the version
// written or found (nil when nothing matched a conditional delete).
type result struct {
	status int
	v      *version
}

// The *Locked methods assume s.st.mu is held for writing; u, when not nil,
// records changes for rollback.

// matchLocked runs the search criteria of a conditional interaction
// ("param=value&..." or "Type?param=value&...").
func (s *Server) matchLocked(typ, criteria string) ([]*version, error) {
	if t, rest, ok := strings.Cut(criteria, "?"); ok {
		if t != typ && t != "" {
			return nil, newError(http.StatusBadRequest, "invalid", "condition is for "+t+", not "+typ)
		}
		criteria = rest
	}
	vals, err := url.ParseQuery(criteria)
	if err != nil || len(vals) == 0 {
		return nil, newError(http.StatusBadRequest, "invalid", "conditional interaction without valid search criteria")
	}
	q, err := parseQuery(typ, vals, true, s.lim)
	if err != nil {
		return nil, err
	}
	return s.st.find(q), nil
}

func tooMany(n int) error {
	return newError(http.StatusPreconditionFailed, "multiple-matches", strconv.Itoa(n)+" resources match the condition")
}

// createLocked stores d under id (a new server id when ""); with
// ifNoneExist it returns the one existing match instead.
func (s *Server) createLocked(u *undo, d *doc, ifNoneExist, id string) (result, error) {
	if ifNoneExist != "" {
		m, err := s.matchLocked(d.typ, ifNoneExist)
		if err != nil {
			return result{}, err
		}
		switch {
		case len(m) == 1:
			return result{http.StatusOK, m[0]}, nil
		case len(m) > 1:
			return result{}, tooMany(len(m))
		}
	}
	if id == "" {
		id = s.st.newID(d.typ)
	}
	v, err := s.st.write(u, d, id, http.MethodPost, s.now())
	return result{http.StatusCreated, v}, err
}

// etagVersion parses W/"n", "n" or n.
func etagVersion(tag string) int {
	tag = strings.Trim(strings.TrimPrefix(strings.TrimSpace(tag), "W/"), `"`)
	n, err := strconv.Atoi(tag)
	if err != nil {
		return -1
	}
	return n
}

func checkMatch(cur *version, ifMatch string) error {
	if ifMatch == "" {
		return nil
	}
	if cur == nil || cur.deleted() || etagVersion(ifMatch) != cur.vid {
		return newError(http.StatusPreconditionFailed, "conflict", "If-Match "+ifMatch+" does not match the current version")
	}
	return nil
}

// updateLocked stores d as typ/id, creating it when absent.
func (s *Server) updateLocked(u *undo, d *doc, id, ifMatch string) (result, error) {
	if d.id == "" {
		return result{}, newError(http.StatusBadRequest, "invalid", "an update body must carry the resource id")
	}
	if d.id != id {
		return result{}, newError(http.StatusBadRequest, "invalid", "body id "+d.id+" does not match the URL id "+id)
	}
	cur := s.st.get(d.typ, id).current()
	if err := checkMatch(cur, ifMatch); err != nil {
		return result{}, err
	}
	status := http.StatusOK
	if cur == nil || cur.deleted() {
		status = http.StatusCreated
	}
	v, err := s.st.write(u, d, id, http.MethodPut, s.now())
	return result{status, v}, err
}

// condUpdateLocked updates the one match of criteria, or creates d.
func (s *Server) condUpdateLocked(u *undo, d *doc, criteria, ifMatch string) (result, error) {
	m, err := s.matchLocked(d.typ, criteria)
	if err != nil {
		return result{}, err
	}
	switch len(m) {
	case 0:
		id := d.id
		if id == "" {
			id = s.st.newID(d.typ)
		} else if s.st.get(d.typ, id).live() != nil {
			return result{}, newError(http.StatusBadRequest, "invalid", "body id "+id+" names a resource that does not match the condition")
		}
		v, err := s.st.write(u, d, id, http.MethodPut, s.now())
		return result{http.StatusCreated, v}, err
	case 1:
		if d.id == "" {
			d.id = m[0].id
		}
		return s.updateLocked(u, d, m[0].id, ifMatch)
	}
	return result{}, tooMany(len(m))
}

// deleteLocked deletes typ/id; deleting a deleted resource changes nothing.
func (s *Server) deleteLocked(u *undo, typ, id, ifMatch string) (result, error) {
	e := s.st.get(typ, id)
	cur := e.current()
	if cur == nil {
		return result{}, newError(http.StatusNotFound, "not-found", typ+"/"+id+" is not known")
	}
	if err := checkMatch(cur, ifMatch); err != nil {
		return result{}, err
	}
	if cur.deleted() {
		return result{http.StatusOK, cur}, nil
	}
	return result{http.StatusOK, s.st.remove(u, e, s.now())}, nil
}

// condDeleteLocked deletes the one match of criteria.
func (s *Server) condDeleteLocked(u *undo, typ, criteria string) (result, error) {
	m, err := s.matchLocked(typ, criteria)
	if err != nil {
		return result{}, err
	}
	switch len(m) {
	case 0:
		return result{http.StatusOK, nil}, nil
	case 1:
		return s.deleteLocked(u, typ, m[0].id, "")
	}
	return result{}, tooMany(len(m))
}

// patchLocked applies a JSON Patch to typ/id.
func (s *Server) patchLocked(u *undo, typ, id string, patch []byte, ifMatch string) (result, error) {
	cur := s.st.get(typ, id).current()
	if cur == nil {
		return result{}, newError(http.StatusNotFound, "not-found", typ+"/"+id+" is not known")
	}
	if cur.deleted() {
		return result{}, newError(http.StatusGone, "deleted", typ+"/"+id+" was deleted")
	}
	if err := checkMatch(cur, ifMatch); err != nil {
		return result{}, err
	}
	out, err := applyPatch(cur.raw, patch)
	if err != nil {
		return result{}, err
	}
	d, err := parseDoc(out, nil)
	if err != nil {
		return result{}, newError(http.StatusUnprocessableEntity, "processing", "the patched resource is invalid: "+err.Error())
	}
	if d.typ != typ || d.id != id {
		return result{}, newError(http.StatusUnprocessableEntity, "processing", "a patch must not change resourceType or id")
	}
	v, err := s.st.write(u, d, id, http.MethodPatch, s.now())
	return result{http.StatusOK, v}, err
}

// condPatchLocked patches the one match of criteria.
func (s *Server) condPatchLocked(u *undo, typ, criteria string, patch []byte, ifMatch string) (result, error) {
	m, err := s.matchLocked(typ, criteria)
	if err != nil {
		return result{}, err
	}
	switch len(m) {
	case 0:
		return result{}, newError(http.StatusNotFound, "not-found", "no "+typ+" matches the condition")
	case 1:
		return s.patchLocked(u, typ, m[0].id, patch, ifMatch)
	}
	return result{}, tooMany(len(m))
}
