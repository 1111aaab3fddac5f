package demo

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// body reads the request body, checking that it is JSON of the given kind
// ("" accepts any JSON media type).
func (c *call) body(want string) ([]byte, error) {
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		ok := err == nil && (mt == want || want == "" && (mt == "application/fhir+json" || mt == "application/json"))
		if !ok {
			return nil, newError(http.StatusUnsupportedMediaType, "not-supported", "unsupported Content-Type "+strconv.Quote(ct))
		}
	}
	if c.r.Body == nil {
		return nil, newError(http.StatusBadRequest, "invalid", "request body required")
	}
	b, err := io.ReadAll(c.r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newError(http.StatusRequestEntityTooLarge, "too-costly", "request body too large")
		}
		return nil, newError(http.StatusBadRequest, "invalid", "cannot read request body")
	}
	return b, nil
}

// resourceBody reads and parses a resource of type typ.
func (c *call) resourceBody(typ string) (*doc, error) {
	b, err := c.body("")
	if err != nil {
		return nil, err
	}
	d, err := parseDoc(b, nil)
	if err != nil {
		return nil, err
	}
	if d.typ != typ {
		return nil, newError(http.StatusBadRequest, "invalid", "body is a "+d.typ+", not a "+typ)
	}
	return d, nil
}

// write runs fn under the store's write lock.
func (c *call) write(fn func() (result, error)) (result, error) {
	c.s.st.mu.Lock()
	defer c.s.st.mu.Unlock()
	return fn()
}

func (c *call) read(typ, id string) error {
	c.s.st.mu.RLock()
	cur := c.s.st.get(typ, id).current()
	c.s.st.mu.RUnlock()
	switch {
	case cur == nil:
		return newError(http.StatusNotFound, "not-found", typ+"/"+id+" is not known")
	case cur.deleted():
		c.versionHeaders(cur)
		return newError(http.StatusGone, "deleted", typ+"/"+id+" was deleted")
	}
	if c.notModified(cur) {
		c.versionHeaders(cur)
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	c.sendVersion(cur)
	return nil
}

// notModified evaluates If-None-Match and If-Modified-Since.
func (c *call) notModified(v *version) bool {
	if inm := c.r.Header.Get("If-None-Match"); inm != "" {
		return etagVersion(inm) == v.vid
	}
	if ims := c.r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil {
			return !v.updated.Truncate(time.Second).After(t)
		}
	}
	return false
}

func (c *call) vread(typ, id, vid string) error {
	n, err := strconv.Atoi(vid)
	if err != nil {
		return newError(http.StatusBadRequest, "invalid", "version "+strconv.Quote(vid)+" is not a number")
	}
	c.s.st.mu.RLock()
	var v *version
	if e := c.s.st.get(typ, id); e != nil && n >= 1 && n <= len(e.versions) {
		v = e.versions[n-1]
	}
	c.s.st.mu.RUnlock()
	switch {
	case v == nil:
		return newError(http.StatusNotFound, "not-found", typ+"/"+id+"/_history/"+vid+" is not known")
	case v.deleted():
		c.versionHeaders(v)
		return newError(http.StatusGone, "deleted", typ+"/"+id+" version "+vid+" is a delete")
	}
	c.sendVersion(v)
	return nil
}

func (c *call) create(typ string) error {
	d, err := c.resourceBody(typ)
	if err != nil {
		return err
	}
	res, err := c.write(func() (result, error) {
		return c.s.createLocked(nil, d, c.r.Header.Get("If-None-Exist"), "")
	})
	if err != nil {
		return err
	}
	c.sendWrite(res.status, res.v)
	return nil
}

func (c *call) update(typ, id string) error {
	d, err := c.resourceBody(typ)
	if err != nil {
		return err
	}
	res, err := c.write(func() (result, error) {
		return c.s.updateLocked(nil, d, id, c.r.Header.Get("If-Match"))
	})
	if err != nil {
		return err
	}
	c.sendWrite(res.status, res.v)
	return nil
}

func (c *call) condUpdate(typ string) error {
	d, err := c.resourceBody(typ)
	if err != nil {
		return err
	}
	res, err := c.write(func() (result, error) {
		return c.s.condUpdateLocked(nil, d, c.r.URL.RawQuery, c.r.Header.Get("If-Match"))
	})
	if err != nil {
		return err
	}
	c.sendWrite(res.status, res.v)
	return nil
}

const jsonPatch = "application/json-patch+json"

func (c *call) patch(typ, id string) error {
	b, err := c.body(jsonPatch)
	if err != nil {
		return err
	}
	res, err := c.write(func() (result, error) {
		if id == "" {
			return c.s.condPatchLocked(nil, typ, c.r.URL.RawQuery, b, c.r.Header.Get("If-Match"))
		}
		return c.s.patchLocked(nil, typ, id, b, c.r.Header.Get("If-Match"))
	})
	if err != nil {
		return err
	}
	c.sendWrite(res.status, res.v)
	return nil
}

func (c *call) remove(typ, id string) error {
	res, err := c.write(func() (result, error) {
		if id == "" {
			return c.s.condDeleteLocked(nil, typ, c.r.URL.RawQuery)
		}
		return c.s.deleteLocked(nil, typ, id, c.r.Header.Get("If-Match"))
	})
	if err != nil {
		return err
	}
	if res.v == nil {
		c.send(http.StatusOK, appendOutcome(nil, "warning", "not-found", "no "+typ+" matches the condition; nothing was deleted"))
		return nil
	}
	c.w.Header().Set("ETag", res.v.etag())
	c.send(http.StatusOK, appendOutcome(nil, "information", "informational", "deleted "+typ+"/"+res.v.id))
	return nil
}
