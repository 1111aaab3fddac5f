package demo

import (
	"slices"
	"strings"
)

// hit is one Bundle entry of a search result.
type hit struct {
	v       *version
	include bool
}

// find returns the live versions matching q, in store order. The caller
// holds st.mu (read or write).
func (st *store) find(q *query) []*version {
	types := q.types
	if q.typ != "" {
		types = []string{q.typ}
	}
	var out []*version
	add := func(e *entry) {
		if v := e.live(); v != nil && q.match(v) {
			out = append(out, v)
		}
	}
	switch {
	case len(q.ids) > 0:
		if len(types) == 0 {
			types = st.types
		}
		for _, t := range types {
			for _, id := range q.ids {
				if e := st.get(t, id); e != nil {
					add(e)
				}
			}
		}
	case q.patient != "" || q.patientHint() != "":
		p := q.patient
		if p == "" {
			p = q.patientHint()
		}
		for _, e := range st.byPatient[p] {
			if len(types) == 0 || slices.Contains(types, e.typ) {
				add(e)
			}
		}
	default:
		if len(types) == 0 {
			types = st.types
		}
		for _, t := range types {
			for _, e := range st.byType[t] {
				add(e)
			}
		}
	}
	return out
}

// patientHint returns a Patient id every match must reference through a
// compartment parameter (so the Patient index can serve the search), or "".
func (q *query) patientHint() string {
	if q.typ == "" {
		return ""
	}
	for _, c := range q.refs {
		if len(c.values) != 1 {
			continue
		}
		_, target, ok := refParam(q.typ, c.name)
		if !ok {
			continue
		}
		if c.target != "" {
			target = c.target
		}
		t, id := refValue(c.values[0], target)
		if t == "Patient" || (t == "" && target == "Patient") {
			return id
		}
	}
	return ""
}

// refValue splits a reference search value ("Patient/1", "1", an absolute
// URL) into type (possibly "") and id.
func refValue(val, target string) (typ, id string) {
	if n := normRef(val); n != val || strings.ContainsRune(val, '/') {
		if t, i, ok := splitRef(n); ok {
			return t, i
		}
		return "\x00", val // matches nothing
	}
	return target, val
}

// match reports whether v satisfies every condition of q except _id.
func (q *query) match(v *version) bool {
	ix := v.ix
	if q.patient != "" {
		if _, ok := slices.BinarySearch(ix.patients, q.patient); !ok {
			return false
		}
	}
	if !q.since.IsZero() && v.updated.Before(q.since) {
		return false
	}
	for _, c := range q.updated {
		if !c.match(v.updated) {
			return false
		}
	}
	for _, c := range q.refs {
		param, target, ok := refParam(v.typ, c.name)
		if !ok {
			return false
		}
		if c.target != "" {
			if target != "" && target != c.target {
				return false
			}
			target = c.target
		}
		if !refsMatch(c.values, target, ix.refs[param]) {
			return false
		}
	}
	for _, c := range q.tokens {
		var have []token
		switch c.name {
		case "_security":
			have = ix.security
		case "_tag":
			have = ix.tags
		default:
			have = ix.tokens[c.name]
		}
		if !tokensMatch(c.values, have) {
			return false
		}
	}
	return true
}

func refsMatch(values []string, target string, refs []string) bool {
	for _, val := range values {
		qt, qid := refValue(val, target)
		if target != "" && qt != "" && qt != target {
			continue
		}
		for _, r := range refs {
			rt, rid, ok := splitRef(r)
			if ok && rid == qid && (qt == "" || qt == rt) {
				return true
			}
		}
	}
	return false
}

func tokensMatch(want []tokenQ, have []token) bool {
	for _, w := range want {
		for _, h := range have {
			if (w.anySystem || w.system == h.system) && (w.code == "" || w.code == h.code) {
				return true
			}
		}
	}
	return false
}

// includes returns the live resources the _include parameters of q reach
// from page, leaving out what is already in it. The caller holds st.mu.
func (st *store) includes(q *query, page []hit) []hit {
	if len(q.includes) == 0 {
		return nil
	}
	seen := make(map[*version]bool, len(page))
	for _, h := range page {
		seen[h.v] = true
	}
	var out []hit
	for _, h := range page {
		for _, inc := range q.includes {
			if inc.src != h.v.typ {
				continue
			}
			param, target, _ := refParam(inc.src, inc.param)
			if inc.target != "" {
				target = inc.target
			}
			for _, r := range h.v.ix.refs[param] {
				t, id, ok := splitRef(r)
				if !ok || (target != "" && t != target) {
					continue
				}
				if v := st.get(t, id).live(); v != nil && !seen[v] {
					seen[v] = true
					out = append(out, hit{v: v, include: true})
				}
			}
		}
	}
	return out
}
