package demo

import (
	"net/http"
	"slices"
)

// history answers history-instance (typ and id), history-type (typ) and
// history-system: newest first, with _count, _since and paging.
func (c *call) history(typ, id string) error {
	q, err := parseQuery(typ, c.vals, c.prefer.strict, c.s.lim)
	if err != nil {
		return err
	}
	st := c.s.st
	st.mu.RLock()
	var all []*version
	switch {
	case id != "":
		e := st.get(typ, id)
		if e.current() == nil {
			st.mu.RUnlock()
			return newError(http.StatusNotFound, "not-found", typ+"/"+id+" is not known")
		}
		all = slices.Clone(e.versions)
	case typ != "":
		for _, v := range st.history {
			if v.typ == typ {
				all = append(all, v)
			}
		}
	default:
		all = slices.Clone(st.history)
	}
	st.mu.RUnlock()
	slices.Reverse(all)
	if !q.since.IsZero() {
		all = slices.DeleteFunc(all, func(v *version) bool { return v.updated.Before(q.since) })
	}
	var hits []hit
	for _, v := range window(all, q) {
		hits = append(hits, hit{v: v})
	}
	return c.sendPage("history", q, len(all), hits, c.historyEntry)
}

// historyEntry fills a history Bundle entry for a version.
func (c *call) historyEntry(e *bentry, h hit) {
	v := h.v
	*e = bentry{v: v, method: v.method, url: v.typ + "/" + v.id, etag: v.etag(), modified: v.updated}
	switch {
	case v.deleted():
		e.status = statusLine(http.StatusNoContent)
	case v.vid == 1 || v.method == http.MethodPost:
		e.status = statusLine(http.StatusCreated)
		e.location = c.location(v)
	default:
		e.status = statusLine(http.StatusOK)
		e.location = c.location(v)
	}
	if v.method == http.MethodPost {
		e.url = v.typ
	}
}
