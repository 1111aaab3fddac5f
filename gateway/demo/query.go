package demo

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/fhir"
)

// query is a parsed search (also used for history, $everything and
// conditional interactions).
type query struct {
	typ       string   // searched type; "" at system level
	types     []string // _type
	patient   string   // compartment search Patient/<patient>/...
	ids       []string // _id
	count     int
	offset    int
	countOnly bool // _summary=count or _count=0
	noTotal   bool // _total=none
	since     time.Time
	updated   []dateCond
	refs      []refCond
	tokens    []tokenCond
	includes  []include
}

type refCond struct {
	name, target string
	values       []string
}

type tokenQ struct {
	system, code string
	anySystem    bool
}

type tokenCond struct {
	name   string
	values []tokenQ
}

type include struct {
	src, param, target string
}

type dateCond struct {
	prefix     string
	start, end time.Time
}

// ignored are parameters accepted and not acted on; under
// Prefer: handling=strict the unsupported ones are refused.
var ignored = map[string]bool{
	"_format": true, "_pretty": true, "_bundletype": true, "start": true, "end": true,
}

// limits holds the page size bounds of a server.
type limits struct{ def, max int }

// parseQuery parses search parameters for typ ("" at system level).
func parseQuery(typ string, vals url.Values, strict bool, lim limits) (*query, error) {
	q := &query{typ: typ, count: lim.def}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name, mod, _ := strings.Cut(k, ":")
		for _, raw := range vals[k] {
			if err := q.param(name, mod, raw, strict, lim); err != nil {
				return nil, err
			}
		}
	}
	return q, nil
}

func (q *query) param(name, mod, raw string, strict bool, lim limits) error {
	bad := func(msg string) error {
		return newError(http.StatusBadRequest, "invalid", "parameter "+name+": "+msg)
	}
	switch name {
	case "_count", "_getpagesoffset":
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return bad("not a non-negative integer")
		}
		if name == "_getpagesoffset" {
			q.offset = n
			return nil
		}
		q.count = min(n, lim.max)
		q.countOnly = q.countOnly || n == 0
		return nil
	case "_summary":
		switch raw {
		case "count":
			q.countOnly = true
		case "false":
		default:
			if strict {
				return bad("only count and false are supported")
			}
		}
		return nil
	case "_total":
		switch raw {
		case "none":
			q.noTotal = true
		case "estimate", "accurate":
		default:
			return bad("must be none, estimate or accurate")
		}
		return nil
	case "_id":
		for _, v := range splitValues(raw) {
			if fhir.ValidID(v) {
				q.ids = append(q.ids, v)
			} else {
				q.ids = append(q.ids, "\x00") // matches nothing
			}
		}
		return nil
	case "_type":
		for _, t := range splitValues(raw) {
			if !fhir.IsResourceType(t) {
				return bad("unknown resource type " + strconv.Quote(t))
			}
			q.types = append(q.types, t)
		}
		return nil
	case "_lastUpdated":
		c, err := parseDateCond(raw)
		if err != nil {
			return bad(err.Error())
		}
		q.updated = append(q.updated, c)
		return nil
	case "_since":
		t, err := parseInstant(raw)
		if err != nil {
			return bad(err.Error())
		}
		q.since = t
		return nil
	case "_include":
		parts := strings.Split(raw, ":")
		if len(parts) < 2 || len(parts) > 3 || !fhir.IsResourceType(parts[0]) || (len(parts) == 3 && !fhir.IsResourceType(parts[2])) {
			return bad("expected Type:param[:targetType]")
		}
		if q.typ != "" && parts[0] != q.typ && q.typ != "*" {
			return bad("source type must be " + q.typ)
		}
		if _, _, ok := refParam(parts[0], parts[1]); !ok {
			if strict {
				return bad("unsupported include " + raw)
			}
			return nil
		}
		inc := include{src: parts[0], param: parts[1]}
		if len(parts) == 3 {
			inc.target = parts[2]
		}
		q.includes = append(q.includes, inc)
		return nil
	case "_security", "_tag":
		return q.tokenParam(name, mod, raw)
	}
	if ignored[name] {
		return nil
	}
	if _, ok := tokenElements[name]; ok {
		return q.tokenParam(name, mod, raw)
	}
	if q.refParamKnown(name) {
		if mod != "" && !fhir.IsResourceType(mod) {
			return bad("unsupported modifier :" + mod)
		}
		q.refs = append(q.refs, refCond{name: name, target: mod, values: splitValues(raw)})
		return nil
	}
	if strict {
		return bad("unknown or unsupported search parameter")
	}
	return nil
}

func (q *query) tokenParam(name, mod, raw string) error {
	if mod != "" {
		return newError(http.StatusBadRequest, "invalid", "parameter "+name+": unsupported modifier :"+mod)
	}
	c := tokenCond{name: name}
	for _, v := range splitValues(raw) {
		sys, code, ok := strings.Cut(v, "|")
		if !ok {
			c.values = append(c.values, tokenQ{code: v, anySystem: true})
			continue
		}
		c.values = append(c.values, tokenQ{system: sys, code: code})
	}
	q.tokens = append(q.tokens, c)
	return nil
}

// refParamKnown reports whether name is a reference parameter of the
// searched type, or of any type in scope at system level.
func (q *query) refParamKnown(name string) bool {
	if q.typ != "" && q.typ != "*" {
		_, _, ok := refParam(q.typ, name)
		return ok
	}
	types := q.types
	if len(types) == 0 {
		types = fhir.ResourceTypes()
	}
	for _, t := range types {
		if _, _, ok := refParam(t, name); ok {
			return true
		}
	}
	return false
}

// refParam resolves a reference search parameter of typ to the Patient
// compartment parameter that indexes it, and the target type it implies.
// "patient" also serves types whose compartment link is subject or
// beneficiary, and "subject" types whose patient parameter is on subject.
func refParam(typ, name string) (param, target string, ok bool) {
	cps := fhir.CompartmentParams(typ)
	for _, p := range cps {
		if p.Param == name {
			return name, "", true
		}
	}
	switch name {
	case "patient":
		for _, alias := range []string{"subject", "beneficiary"} {
			for _, p := range cps {
				if p.Param == alias {
					return alias, "Patient", true
				}
			}
		}
	case "subject":
		for _, p := range cps {
			if p.Param == "patient" && slices.ContainsFunc(p.Paths, func(s string) bool {
				return strings.HasSuffix(s, "subject") || strings.Contains(s, "subject.")
			}) {
				return "patient", "", true
			}
		}
	}
	return "", "", false
}

// splitValues splits a parameter value on commas not escaped with '\'.
func splitValues(raw string) []string {
	if !strings.ContainsRune(raw, '\\') {
		return strings.Split(raw, ",")
	}
	var out []string
	var cur strings.Builder
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\\' && i+1 < len(raw):
			i++
			cur.WriteByte(raw[i])
		case c == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}
