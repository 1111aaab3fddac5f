package demo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// txOp is one parsed entry of a batch or transaction.
type txOp struct {
	index    int
	e        *bundleEntry
	method   string
	typ, id  string
	vid      string // _history version of a GET
	criteria string // conditional update/delete/patch query
	path     string // path below the base (GETs)
	query    string // raw query (GETs)
	out      bentry // the response entry
}

// parseOp parses entry.request.
func (c *call) parseOp(i int, e *bundleEntry) (*txOp, error) {
	if e.Request == nil || e.Request.Method == "" || e.Request.URL == "" {
		return nil, newError(http.StatusBadRequest, "invalid", "entry "+strconv.Itoa(i)+" has no request method and url")
	}
	op := &txOp{index: i, e: e, method: e.Request.Method}
	raw := strings.TrimPrefix(e.Request.URL, c.base)
	u, err := url.Parse(raw)
	if err != nil || u.IsAbs() {
		return nil, newError(http.StatusBadRequest, "invalid", "entry "+strconv.Itoa(i)+" has an invalid request url")
	}
	op.path, op.query = strings.Trim(u.Path, "/"), u.RawQuery
	segs := strings.Split(op.path, "/")
	if op.method == get || op.method == http.MethodHead {
		return op, nil
	}
	op.typ = segs[0]
	if !fhir.IsResourceType(op.typ) {
		return nil, newError(http.StatusBadRequest, "not-supported", "entry "+strconv.Itoa(i)+": unknown resource type "+op.typ)
	}
	switch {
	case len(segs) == 1 && op.method == post:
	case len(segs) == 1 && op.query != "" && (op.method == put || op.method == del || op.method == patch):
		op.criteria = op.query
	case len(segs) == 2 && (op.method == put || op.method == del || op.method == patch):
		op.id = segs[1]
	default:
		return nil, newError(http.StatusBadRequest, "not-supported", "entry "+strconv.Itoa(i)+": unsupported request "+op.method+" "+e.Request.URL)
	}
	if (op.method == post || op.method == put) && len(e.Resource) == 0 {
		return nil, newError(http.StatusBadRequest, "invalid", "entry "+strconv.Itoa(i)+" has no resource")
	}
	return op, nil
}

// batch answers POST [base] with a batch or transaction Bundle.
func (c *call) batch() error {
	b, err := c.body("")
	if err != nil {
		return err
	}
	kind, entries, err := readBundle(bytes.NewReader(b))
	if err != nil || (kind != "batch" && kind != "transaction") {
		return newError(http.StatusBadRequest, "invalid", "body is not a batch or transaction Bundle")
	}
	ops := make([]*txOp, len(entries))
	for i := range entries {
		op, err := c.parseOp(i, &entries[i])
		if err != nil && kind == "transaction" {
			return err
		}
		if err != nil {
			_, oo := errorOutcome(err)
			status, _, _ := statusOf(err)
			ops[i] = &txOp{index: i, out: bentry{status: statusLine(status), outcome: oo}}
			continue
		}
		ops[i] = op
	}
	if kind == "transaction" {
		if err := c.transaction(ops); err != nil {
			return err
		}
	} else {
		for _, op := range ops {
			if op.e == nil {
				continue
			}
			if op.method == get || op.method == http.MethodHead {
				c.subGet(op)
				continue
			}
			c.s.st.mu.Lock()
			err := c.runWrite(nil, op, nil)
			c.s.st.mu.Unlock()
			if err != nil {
				status, oo := errorOutcome(err)
				op.out = bentry{status: statusLine(status), outcome: oo}
			}
		}
	}
	c.header(fhirJSON)
	c.w.WriteHeader(http.StatusOK)
	bw := newBundleWriter(c.w, c.base, kind+"-response", c.s.now(), -1, nil)
	for _, op := range ops {
		_ = bw.add(&op.out)
	}
	return bw.close()
}

// transaction runs every write under one lock and rolls all of them back
// when one fails; GETs run afterwards. Entries are processed in the FHIR
// order DELETE, POST, PUT/PATCH, GET.
func (c *call) transaction(ops []*txOp) error {
	st := c.s.st
	st.mu.Lock()
	u := st.begin()
	fail := func(op *txOp, err error) error {
		st.rollback(u)
		st.mu.Unlock()
		status, code, msg := statusOf(err)
		return newError(status, code, "transaction failed at entry "+strconv.Itoa(op.index)+": "+msg)
	}
	ids, err := c.assignIDs(ops)
	if err != nil {
		st.rollback(u)
		st.mu.Unlock()
		return err
	}
	var refErr error
	rewrite := func(ref string) (string, bool) {
		if to, ok := ids[ref]; ok {
			return to, true
		}
		if typ, criteria, ok := strings.Cut(ref, "?"); ok && fhir.IsResourceType(typ) {
			m, err := c.s.matchLocked(typ, criteria)
			if err == nil && len(m) == 1 {
				return typ + "/" + m[0].id, true
			}
			if refErr == nil {
				refErr = newError(http.StatusPreconditionFailed, "not-found", "conditional reference "+ref+" does not match exactly one resource")
			}
		}
		return "", false
	}
	for _, m := range []string{del, post, put, patch} {
		for _, op := range ops {
			if op.method != m {
				continue
			}
			if err := c.runWrite(u, op, rewrite); err != nil {
				return fail(op, err)
			}
			if refErr != nil {
				return fail(op, refErr)
			}
		}
	}
	st.mu.Unlock()
	for _, op := range ops {
		if op.method == get || op.method == http.MethodHead {
			c.subGet(op)
		}
	}
	return nil
}

// assignIDs maps the fullUrl of every POST and PUT entry to the Type/id it
// will have, resolving conditional creates and updates first.
func (c *call) assignIDs(ops []*txOp) (map[string]string, error) {
	ids := make(map[string]string)
	for _, op := range ops {
		if op.method != post && op.method != put {
			continue
		}
		switch {
		case op.method == post && op.e.Request.IfNoneExist != "":
			m, err := c.s.matchLocked(op.typ, op.e.Request.IfNoneExist)
			if err != nil {
				return nil, err
			}
			if len(m) > 1 {
				return nil, tooMany(len(m))
			}
			if len(m) == 1 {
				op.id = m[0].id
				op.out = bentry{status: statusLine(http.StatusOK), location: c.location(m[0]), etag: m[0].etag(), modified: m[0].updated}
				op.method = "exists"
			}
		case op.criteria != "":
			m, err := c.s.matchLocked(op.typ, op.criteria)
			if err != nil {
				return nil, err
			}
			if len(m) > 1 {
				return nil, tooMany(len(m))
			}
			if len(m) == 1 {
				op.id, op.criteria = m[0].id, ""
			}
		}
		if op.id == "" {
			if op.method == put {
				var h struct{ ID string }
				_ = json.Unmarshal(op.e.Resource, &h)
				op.id = h.ID
			}
			if op.id == "" {
				op.id = c.s.st.newID(op.typ)
			}
			op.criteria = ""
		}
		if op.e.FullURL != "" {
			ids[op.e.FullURL] = op.typ + "/" + op.id
		}
	}
	return ids, nil
}

// runWrite performs one write entry and records its response entry.
func (c *call) runWrite(u *undo, op *txOp, rewrite func(string) (string, bool)) error {
	var res result
	var err error
	switch op.method {
	case "exists":
		return nil
	case post, put:
		d, perr := parseValid(op.e.Resource, rewrite)
		if perr != nil {
			return perr
		}
		if d.typ != op.typ {
			return newError(http.StatusBadRequest, "invalid", "resource is a "+d.typ+", not a "+op.typ)
		}
		switch {
		case op.method == post:
			ifNoneExist := op.e.Request.IfNoneExist
			if u != nil { // a transaction resolved it in assignIDs
				ifNoneExist = ""
			}
			res, err = c.s.createLocked(u, d, ifNoneExist, op.id)
		case op.criteria != "":
			res, err = c.s.condUpdateLocked(u, d, op.criteria, op.e.Request.IfMatch)
		default:
			if d.id == "" {
				d.id = op.id
			}
			res, err = c.s.updateLocked(u, d, op.id, op.e.Request.IfMatch)
		}
	case del:
		if op.criteria != "" {
			res, err = c.s.condDeleteLocked(u, op.typ, op.criteria)
		} else {
			res, err = c.s.deleteLocked(u, op.typ, op.id, op.e.Request.IfMatch)
		}
		if err == nil {
			op.out = bentry{status: statusLine(http.StatusNoContent)}
			if res.v != nil {
				op.out.etag = res.v.etag()
			}
		}
		return err
	case patch:
		var p []byte
		if p, err = patchBody(op.e.Resource); err != nil {
			return err
		}
		if op.criteria != "" {
			res, err = c.s.condPatchLocked(u, op.typ, op.criteria, p, op.e.Request.IfMatch)
		} else {
			res, err = c.s.patchLocked(u, op.typ, op.id, p, op.e.Request.IfMatch)
		}
	default:
		return newError(http.StatusBadRequest, "not-supported", "unsupported method "+op.method)
	}
	if err != nil {
		return err
	}
	v := res.v
	op.out = bentry{status: statusLine(res.status), location: c.location(v), etag: v.etag(), modified: v.updated}
	if c.prefer.ret == "representation" {
		op.out.resource = v.raw
	}
	return nil
}

// patchBody extracts a JSON Patch sent in a Bundle as a Binary.
func patchBody(res json.RawMessage) ([]byte, error) {
	var bin struct {
		ResourceType string `json:"resourceType"`
		ContentType  string `json:"contentType"`
		Data         string `json:"data"`
	}
	if json.Unmarshal(res, &bin) != nil || bin.ResourceType != "Binary" || bin.ContentType != jsonPatch {
		return nil, newError(http.StatusUnsupportedMediaType, "not-supported", "a PATCH entry must carry a Binary of "+jsonPatch)
	}
	p, err := base64.StdEncoding.DecodeString(bin.Data)
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid", "Binary.data is not base64")
	}
	return p, nil
}
