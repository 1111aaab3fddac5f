package demo

import (
	"net/http"
	"slices"
)

// everything answers Patient/id/$everything, or Patient/$everything (every
// Patient) when id is "": the Patients, the resources in their
// compartments, then the non-patient resources those reference (search
// mode include). _type, _since and _count apply; start and end are ignored.
func (c *call) everything(id string) error {
	q, err := parseQuery("", c.vals, c.prefer.strict, c.s.lim)
	if err != nil {
		return err
	}
	st := c.s.st
	st.mu.RLock()
	var patients []string
	if id != "" {
		cur := st.get("Patient", id).current()
		if cur == nil || cur.deleted() {
			st.mu.RUnlock()
			if cur != nil {
				return newError(http.StatusGone, "deleted", "Patient/"+id+" was deleted")
			}
			return newError(http.StatusNotFound, "not-found", "Patient/"+id+" is not known")
		}
		patients = []string{id}
	} else {
		for _, e := range st.byType["Patient"] {
			if e.live() != nil {
				patients = append(patients, e.id)
			}
		}
	}
	all := st.everything(patients, q)
	page := window(all, q)
	st.mu.RUnlock()
	return c.sendPage("searchset", q, len(all), page, nil)
}

// everything lists the $everything result for patients. The caller holds
// st.mu.
func (st *store) everything(patients []string, q *query) []hit {
	keep := func(v *version) bool {
		return (len(q.types) == 0 || slices.Contains(q.types, v.typ)) &&
			(q.since.IsZero() || !v.updated.Before(q.since))
	}
	seen := make(map[*version]bool)
	var out []hit
	for _, p := range patients {
		if v := st.get("Patient", p).live(); v != nil && !seen[v] {
			seen[v] = true
			if keep(v) {
				out = append(out, hit{v: v})
			}
		}
		for _, e := range st.byPatient[p] {
			v := e.live()
			if v == nil || seen[v] {
				continue
			}
			if _, in := slices.BinarySearch(v.ix.patients, p); in {
				seen[v] = true
				if keep(v) {
					out = append(out, hit{v: v})
				}
			}
		}
	}
	matches := len(out)
	for i := 0; i < matches; i++ {
		for _, r := range out[i].v.ix.all {
			t, id, ok := splitRef(r)
			if !ok || t == "Patient" {
				continue
			}
			v := st.get(t, id).live()
			if v == nil || seen[v] || len(v.ix.patients) > 0 {
				continue
			}
			seen[v] = true
			if keep(v) {
				out = append(out, hit{v: v, include: true})
			}
		}
	}
	return out
}
