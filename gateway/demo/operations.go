package demo

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// validate answers [base]/T/$validate and T/id/$validate with an
// OperationOutcome: 200 when the resource passes the checks, 422 when not.
// The body is the resource or a Parameters with a "resource" parameter.
func (c *call) validate(typ, id string) error {
	b, err := c.body("")
	if err != nil {
		return err
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name     string          `json:"name"`
			Resource json.RawMessage `json:"resource"`
		} `json:"parameter"`
	}
	if json.Unmarshal(b, &head) != nil {
		return newError(http.StatusBadRequest, "invalid", "body is not a JSON object")
	}
	if head.ResourceType == "Parameters" && typ != "Parameters" {
		b = nil
		for _, p := range head.Parameter {
			if p.Name == "resource" {
				b = p.Resource
			}
		}
		if b == nil {
			return newError(http.StatusBadRequest, "invalid", "Parameters has no resource parameter")
		}
	}
	problems := validateResource(b, typ, id)
	if len(problems) == 0 {
		c.send(http.StatusOK, appendOutcome(nil, "information", "informational", "no issues detected"))
		return nil
	}
	out := []byte(`{"resourceType":"OperationOutcome","issue":[`)
	for i, p := range problems {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"severity":"error","code":"invalid","diagnostics":`...)
		out = appendString(out, p)
		out = append(out, '}')
	}
	c.send(http.StatusUnprocessableEntity, append(out, "]}"...))
	return nil
}

// validateResource lists what makes b an invalid FHIR JSON resource of type
// typ (and id, when given): the parse rules and the JSON representation
// rules (no null, no empty object, array or string).
func validateResource(b []byte, typ, id string) []string {
	d, err := parseDoc(b, nil)
	if err != nil {
		_, _, msg := statusOf(err)
		return []string{msg}
	}
	var out []string
	if d.typ != typ {
		out = append(out, "resourceType is "+d.typ+", expected "+typ)
	}
	if id != "" && d.id != id {
		out = append(out, "id is "+strconv.Quote(d.id)+", expected "+strconv.Quote(id))
	}
	var tree any
	_ = json.Unmarshal(b, &tree)
	return append(out, jsonRules(tree, d.typ)...)
}

// jsonRules checks the FHIR JSON representation rules below v.
func jsonRules(v any, path string) []string {
	var out []string
	switch t := v.(type) {
	case nil:
		out = append(out, path+": null is not allowed")
	case string:
		if t == "" {
			out = append(out, path+": empty string")
		}
	case []any:
		if len(t) == 0 {
			out = append(out, path+": empty array")
		}
		for i, e := range t {
			if e != nil { // null keeps array positions of primitives
				out = append(out, jsonRules(e, path+"["+strconv.Itoa(i)+"]")...)
			}
		}
	case map[string]any:
		if len(t) == 0 {
			out = append(out, path+": empty object")
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, jsonRules(t[k], path+"."+k)...)
		}
	}
	return out
}

// meta answers $meta: the meta of one resource, or the profiles, security
// labels and tags in use by a type or the whole server.
func (c *call) meta(typ, id string) error {
	st := c.s.st
	out := []byte(`{"resourceType":"Parameters","parameter":[{"name":"return"`)
	st.mu.RLock()
	if id != "" {
		cur := st.get(typ, id).current()
		st.mu.RUnlock()
		switch {
		case cur == nil:
			return newError(http.StatusNotFound, "not-found", typ+"/"+id+" is not known")
		case cur.deleted():
			return newError(http.StatusGone, "deleted", typ+"/"+id+" was deleted")
		}
		ms, err := splitObject(cur.raw)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.key == "meta" {
				out = append(out, `,"valueMeta":`...)
				out = append(out, m.val...)
			}
		}
		c.send(http.StatusOK, append(out, "}]}"...))
		return nil
	}
	var profiles []string
	var security, tags []token
	types := st.types
	if typ != "" {
		types = []string{typ}
	}
	for _, t := range types {
		for _, e := range st.byType[t] {
			if v := e.live(); v != nil {
				profiles = append(profiles, v.ix.profiles...)
				security = append(security, v.ix.security...)
				tags = append(tags, v.ix.tags...)
			}
		}
	}
	st.mu.RUnlock()
	slices.Sort(profiles)
	profiles = slices.Compact(profiles)
	security, tags = uniqueTokens(security), uniqueTokens(tags)
	if len(profiles)+len(security)+len(tags) > 0 {
		out = append(out, `,"valueMeta":{`...)
		sep := ""
		if len(profiles) > 0 {
			out = append(out, `"profile":[`...)
			for i, p := range profiles {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendString(out, p)
			}
			out = append(out, ']')
			sep = ","
		}
		for _, l := range []struct {
			name string
			ts   []token
		}{{"security", security}, {"tag", tags}} {
			if len(l.ts) == 0 {
				continue
			}
			out = append(out, sep+`"`+l.name+`":[`...)
			for i, t := range l.ts {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendCoding(out, t)
			}
			out = append(out, ']')
			sep = ","
		}
		out = append(out, '}')
	}
	c.send(http.StatusOK, append(out, "}]}"...))
	return nil
}

func appendCoding(dst []byte, t token) []byte {
	dst = append(dst, '{')
	if t.system != "" {
		dst = append(dst, `"system":`...)
		dst = appendString(dst, t.system)
		dst = append(dst, ',')
	}
	dst = append(dst, `"code":`...)
	dst = appendString(dst, t.code)
	return append(dst, '}')
}

func uniqueTokens(ts []token) []token {
	slices.SortFunc(ts, func(a, b token) int {
		if a.system != b.system {
			if a.system < b.system {
				return -1
			}
			return 1
		}
		if a.code < b.code {
			return -1
		}
		if a.code > b.code {
			return 1
		}
		return 0
	})
	return slices.Compact(ts)
}
