package demo

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// token is a system|code pair (or system|value for identifiers).
type token struct {
	system, code string
}

// index is what search needs to know about one resource version.
type index struct {
	refs     map[string][]string // compartment param → normalized references
	patients []string            // Patient compartments the resource is in
	all      []string            // every normalized reference, unique
	tokens   map[string][]token  // token search param → values
	security []token
	tags     []token
	profiles []string
}

// tokenElements maps the token search parameters the server supports to
// the elements that carry them (the first present wins).
var tokenElements = map[string][]string{
	"category":        {"category"},
	"code":            {"code", "medicationCodeableConcept", "vaccineCode"},
	"status":          {"status"},
	"clinical-status": {"clinicalStatus"},
	"identifier":      {"identifier"},
	"gender":          {"gender"},
}

// buildIndex computes the search index of a parsed resource.
func buildIndex(d *doc) *index {
	ix := &index{tokens: make(map[string][]token, 4)}
	fields := make(map[string][]byte, len(d.members))
	for _, m := range d.members {
		fields[m.key] = m.val
	}
	if raw, ok := fields["meta"]; ok {
		var meta struct {
			Security []fhir.Coding `json:"security"`
			Tag      []fhir.Coding `json:"tag"`
			Profile  []string      `json:"profile"`
		}
		if json.Unmarshal(raw, &meta) == nil {
			for _, c := range meta.Security {
				ix.security = append(ix.security, token{c.System, c.Code})
			}
			for _, c := range meta.Tag {
				ix.tags = append(ix.tags, token{c.System, c.Code})
			}
			ix.profiles = meta.Profile
		}
	}
	for param, elems := range tokenElements {
		for _, e := range elems {
			raw, ok := fields[e]
			if !ok {
				continue
			}
			var v any
			if json.Unmarshal(raw, &v) == nil {
				if ts := tokensOf(v, nil); len(ts) > 0 {
					ix.tokens[param] = ts
				}
			}
			break
		}
	}
	if d.typ == "Patient" && d.id != "" {
		ix.patients = append(ix.patients, d.id)
	}
	decoded := map[string]any{}
	for _, p := range fhir.CompartmentParams(d.typ) {
		var refs []string
		for _, path := range p.Paths {
			path, _, _ = strings.Cut(path, ".where(")
			path = strings.TrimPrefix(path, d.typ+".")
			head, rest, _ := strings.Cut(path, ".")
			v, ok := decoded[head]
			if !ok {
				if raw, found := fields[head]; found {
					_ = json.Unmarshal(raw, &v)
				}
				decoded[head] = v
			}
			refs = walkRefs(v, rest, refs)
		}
		if len(refs) == 0 {
			continue
		}
		if ix.refs == nil {
			ix.refs = make(map[string][]string, 2)
		}
		ix.refs[p.Param] = refs
		for _, r := range refs {
			if t, id, ok := splitRef(r); ok && t == "Patient" {
				ix.patients = append(ix.patients, id)
			}
		}
	}
	slices.Sort(ix.patients)
	ix.patients = slices.Compact(ix.patients)
	ix.all = slices.Clone(d.refs)
	slices.Sort(ix.all)
	ix.all = slices.Compact(ix.all)
	return ix
}

// walkRefs appends every normalized Reference.reference at the dotted path
// below v (arrays are walked transparently).
func walkRefs(v any, path string, out []string) []string {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			out = walkRefs(e, path, out)
		}
	case map[string]any:
		if path == "" {
			if s, ok := t["reference"].(string); ok {
				if n := normRef(s); n != "" {
					out = append(out, n)
				}
			}
			return out
		}
		head, rest, _ := strings.Cut(path, ".")
		if c, ok := t[head]; ok {
			out = walkRefs(c, rest, out)
		}
	}
	return out
}

// tokensOf collects the tokens of a code, Coding, CodeableConcept or
// Identifier value (or an array of them).
func tokensOf(v any, out []token) []token {
	switch t := v.(type) {
	case string:
		return append(out, token{code: t})
	case []any:
		for _, e := range t {
			out = tokensOf(e, out)
		}
	case map[string]any:
		if c, ok := t["coding"]; ok {
			return tokensOf(c, out)
		}
		sys, _ := t["system"].(string)
		if val, ok := t["value"].(string); ok {
			return append(out, token{sys, val})
		}
		if code, ok := t["code"].(string); ok {
			return append(out, token{sys, code})
		}
	}
	return out
}
