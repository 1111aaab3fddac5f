package engine

import (
	"strings"
	"time"

	"github.com/ehigate/ehigate/fhir"
)

// embargo returns the Embargoed function of a delay policy in embargo
// form: a resource matching the policy's per-resource criteria is held
// until release_after past its date element; a resource without a
// readable date is held from now.
func (r *rule) embargo(decided time.Time) func(*fhir.Resource, time.Time) (time.Time, bool) {
	spec := r.p.DelaySpec()
	path := strings.Split(spec.DateElement, ".")
	return func(res *fhir.Resource, now time.Time) (time.Time, bool) {
		v := resourceView{res: res}
		if !r.matchResource(&v, decided) {
			return time.Time{}, false
		}
		base := now
		if tree, err := v.decoded(); err == nil {
			if t, ok := dateAt(tree, path); ok {
				base = t
			}
		}
		until := base.Add(spec.ReleaseAfter)
		return until, now.Before(until)
	}
}

// dateAt reads a FHIR date, dateTime or instant at a dotted element path.
func dateAt(tree map[string]any, path []string) (time.Time, bool) {
	var v any = tree
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return time.Time{}, false
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
