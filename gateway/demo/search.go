package demo

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// search answers a type search (typ set), a system search (typ ""), or a
// compartment search (patient set, typ "" for Patient/id/*).
func (c *call) search(typ, patient string) error {
	q, err := parseQuery(typ, c.vals, c.prefer.strict, c.s.lim)
	if err != nil {
		return err
	}
	q.patient = patient
	st := c.s.st
	st.mu.RLock()
	all := st.find(q)
	var hits []hit
	if !q.countOnly {
		for _, v := range window(all, q) {
			hits = append(hits, hit{v: v})
		}
		hits = append(hits, st.includes(q, hits)...)
	}
	st.mu.RUnlock()
	return c.sendPage("searchset", q, len(all), hits, nil)
}

// window returns the page of s that q asks for.
func window[T any](s []T, q *query) []T {
	if q.countOnly || q.offset >= len(s) {
		return nil
	}
	return s[q.offset:min(len(s), q.offset+q.count)]
}

// sendPage streams a Bundle page. fill, when not nil, sets the entry for a
// hit (history); otherwise entries are search matches and includes.
func (c *call) sendPage(kind string, q *query, total int, hits []hit, fill func(*bentry, hit)) error {
	t := total
	if q.noTotal {
		t = -1
	}
	c.header(fhirJSON)
	c.w.WriteHeader(http.StatusOK)
	bw := newBundleWriter(c.w, c.base, kind, c.s.now(), t, c.links(kind, q, total))
	var e bentry
	for _, h := range hits {
		if fill != nil {
			fill(&e, h)
		} else {
			e = bentry{v: h.v, mode: "match"}
			if h.include {
				e.mode = "include"
			}
		}
		if err := bw.add(&e); err != nil {
			break
		}
	}
	return bw.close()
}

// pagingKeys are the parameters a page token leaves out.
var pagingKeys = []string{"_getpages", "_getpagesoffset", "_count", "_bundletype"}

// searchPath is the request path with a trailing _search removed.
func (c *call) searchPath() string {
	p := strings.TrimSuffix(c.path, "_search")
	return strings.TrimSuffix(p, "/")
}

// canonical returns the search parameters without paging ones, encoded in
// key order.
func (c *call) canonical() string {
	v := make(url.Values, len(c.vals))
	for k, vs := range c.vals {
		v[k] = vs
	}
	for _, k := range pagingKeys {
		delete(v, k)
	}
	return v.Encode()
}

// links returns self, first, previous, next and last as absolute URLs; the
// paging ones carry an opaque token the server resumes from.
func (c *call) links(kind string, q *query, total int) []link {
	tok := c.token
	if tok == "" {
		tok = base64.RawURLEncoding.EncodeToString([]byte(c.searchPath() + "?" + c.canonical()))
	}
	page := func(off int) string {
		return c.base + "?_getpages=" + tok + "&_getpagesoffset=" + strconv.Itoa(off) +
			"&_count=" + strconv.Itoa(q.count) + "&_bundletype=" + kind
	}
	var self string
	if c.token != "" {
		self = page(q.offset)
	} else {
		self = c.base
		if p := c.searchPath(); p != "" {
			self += "/" + p
		}
		if qs := c.vals.Encode(); qs != "" {
			self += "?" + qs
		}
	}
	links := []link{{"self", self}}
	if q.countOnly || q.count == 0 {
		return links
	}
	links = append(links, link{"first", page(0)})
	if q.offset > 0 {
		links = append(links, link{"previous", page(max(0, q.offset-q.count))})
	}
	if q.offset+q.count < total {
		links = append(links, link{"next", page(q.offset + q.count)})
	}
	if total > 0 {
		links = append(links, link{"last", page((total - 1) / q.count * q.count)})
	}
	return links
}

// resume serves [base]?_getpages=<token>: it decodes the path and query the
// token stands for and serves that page.
func (c *call) resume() error {
	tok := c.vals.Get("_getpages")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return newError(http.StatusGone, "not-found", "unknown or expired page token")
	}
	path, qs, _ := strings.Cut(string(raw), "?")
	vals, err := url.ParseQuery(qs)
	if err != nil || strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
		return newError(http.StatusGone, "not-found", "unknown or expired page token")
	}
	for _, k := range pagingKeys {
		delete(vals, k)
	}
	for _, k := range []string{"_getpagesoffset", "_count"} {
		if v, ok := c.vals[k]; ok {
			vals[k] = v
		}
	}
	c.path, c.vals, c.token = path, vals, tok
	return c.dispatch()
}
