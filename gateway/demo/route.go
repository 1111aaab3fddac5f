package demo

import (
	"net/http"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

const (
	get   = http.MethodGet
	post  = http.MethodPost
	put   = http.MethodPut
	del   = http.MethodDelete
	patch = http.MethodPatch
)

// route serves the call, answering failures with an OperationOutcome.
func (c *call) route() {
	if f := c.vals.Get("_format"); f != "" && !strings.Contains(f, "json") {
		c.fail(newError(http.StatusNotAcceptable, "not-supported", "this server speaks JSON only"))
		return
	}
	if err := c.dispatch(); err != nil {
		c.fail(err)
	}
}

func (c *call) method() string {
	if c.r.Method == http.MethodHead {
		return get
	}
	return c.r.Method
}

// form merges a form-encoded body (POST _search) into the parameters.
func (c *call) form() error {
	if c.r.Method != post {
		return nil
	}
	if err := c.r.ParseForm(); err != nil {
		return newError(http.StatusBadRequest, "invalid", "cannot parse the form body")
	}
	c.vals = c.r.Form
	return nil
}

// dispatch routes by method and path below the base.
func (c *call) dispatch() error {
	var segs []string
	if c.path != "" {
		segs = strings.Split(c.path, "/")
	}
	m := c.method()
	if len(segs) == 0 {
		switch m {
		case get:
			if c.vals.Has("_getpages") {
				return c.resume()
			}
			return c.search("", "")
		case post:
			return c.batch()
		}
		return notAllowed(get, post)
	}
	switch head := segs[0]; {
	case len(segs) == 1 && head == "metadata":
		if m != get {
			return notAllowed(get)
		}
		return c.capabilities()
	case len(segs) == 1 && head == "_search":
		if m != get && m != post {
			return notAllowed(get, post)
		}
		if err := c.form(); err != nil {
			return err
		}
		return c.search("", "")
	case len(segs) == 1 && head == "_history":
		if m != get {
			return notAllowed(get)
		}
		return c.history("", "")
	case head == "bulkstatus" && len(segs) == 2:
		return c.bulkStatus(segs[1])
	case head == "bulkfiles" && len(segs) == 3:
		if m != get {
			return notAllowed(get)
		}
		return c.bulkFile(segs[1], segs[2])
	case len(segs) == 1 && strings.HasPrefix(head, "$"):
		return c.operation("", "", head, m)
	case fhir.IsResourceType(head):
		return c.typeRoute(head, segs[1:], m)
	case head != "" && head[0] >= 'A' && head[0] <= 'Z':
		return newError(http.StatusBadRequest, "not-supported", "unknown resource type "+head)
	}
	return newError(http.StatusNotFound, "not-found", "no FHIR endpoint at this path")
}

func (c *call) typeRoute(typ string, segs []string, m string) error {
	if len(segs) == 0 {
		switch m {
		case get:
			return c.search(typ, "")
		case post:
			return c.create(typ)
		case put:
			return c.condUpdate(typ)
		case patch:
			return c.patch(typ, "")
		case del:
			return c.remove(typ, "")
		}
		return notAllowed(get, post, put, patch, del)
	}
	s1 := segs[0]
	if len(segs) == 1 {
		switch {
		case s1 == "_search":
			if m != get && m != post {
				return notAllowed(get, post)
			}
			if err := c.form(); err != nil {
				return err
			}
			return c.search(typ, "")
		case s1 == "_history":
			if m != get {
				return notAllowed(get)
			}
			return c.history(typ, "")
		case strings.HasPrefix(s1, "$"):
			return c.operation(typ, "", s1, m)
		}
	}
	if !fhir.ValidID(s1) {
		return newError(http.StatusBadRequest, "invalid", "invalid resource id")
	}
	if len(segs) == 1 {
		switch m {
		case get:
			return c.read(typ, s1)
		case put:
			return c.update(typ, s1)
		case patch:
			return c.patch(typ, s1)
		case del:
			return c.remove(typ, s1)
		}
		return notAllowed(get, put, patch, del)
	}
	s2 := segs[1]
	switch {
	case s2 == "_history" && len(segs) <= 3:
		if m != get {
			return notAllowed(get)
		}
		if len(segs) == 2 {
			return c.history(typ, s1)
		}
		return c.vread(typ, s1, segs[2])
	case len(segs) == 2 && strings.HasPrefix(s2, "$"):
		return c.operation(typ, s1, s2, m)
	case len(segs) == 2 && typ == "Patient" && (s2 == "*" || fhir.IsResourceType(s2)):
		if m != get {
			return notAllowed(get)
		}
		if s2 == "*" {
			s2 = ""
		}
		return c.search(s2, s1)
	}
	return newError(http.StatusNotFound, "not-found", "no FHIR endpoint at this path")
}

// operation routes $name at system (typ ""), type (id "") or instance level.
func (c *call) operation(typ, id, name, m string) error {
	if m != get && m != post {
		return notAllowed(get, post)
	}
	switch {
	case name == "$everything" && typ == "Patient":
		if err := c.form(); err != nil {
			return err
		}
		return c.everything(id)
	case name == "$export" && (typ == "" || typ == "Patient" && id == "" || typ == "Group" && id != ""):
		return c.exportKickoff(typ, id)
	case name == "$validate" && typ != "":
		if m != post {
			return notAllowed(post)
		}
		return c.validate(typ, id)
	case name == "$meta":
		return c.meta(typ, id)
	}
	return newError(http.StatusBadRequest, "not-supported", "operation "+name+" is not supported here")
}
