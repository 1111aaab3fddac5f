package consent

import (
	"bytes"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// access is what one evaluation is about: a requester, when, whether it
// writes, and (per resource) the resource.
type access struct {
	set   *Set
	who   *decision.Requester
	at    time.Time
	write bool
	res   *resView
}

// reqMatch checks a provision's criteria that depend on the request only.
func (p *Provision) reqMatch(a *access) bool {
	if !p.Period.IsZero() && !p.Period.contains(a.at) {
		return false
	}
	if len(p.Actions) > 0 && !actionMatch(p.Actions, a.write) {
		return false
	}
	if len(p.Purposes) > 0 && !purposeMatch(p.Purposes, a.who.Purpose) {
		return false
	}
	if len(p.Recipients) > 0 {
		ok := false
		for i := range p.Recipients {
			if a.set.isRequester(&p.Recipients[i], a.who) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func actionMatch(actions []string, write bool) bool {
	for _, c := range actions {
		switch c {
		case "access", "use", "disclose":
			if !write {
				return true
			}
		case "correct", "collect":
			if write {
				return true
			}
		}
	}
	return false
}

func purposeMatch(want []fhir.Coding, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w.Code == h {
				return true
			}
		}
	}
	return false
}

// resMatch checks a provision's criteria that depend on the resource.
func (p *Provision) resMatch(v *resView) bool {
	if len(p.SecurityLabels) > 0 && !v.hasLabel(p.SecurityLabels) {
		return false
	}
	if len(p.Classes) > 0 && !v.hasClass(p.Classes) {
		return false
	}
	if len(p.Sources) > 0 {
		ok := false
		for _, s := range p.Sources {
			if s.Reference != "" && v.refersTo(s.Reference) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(p.Codes) > 0 && !v.hasCode(p.Codes) {
		return false
	}
	if !p.DataPeriod.IsZero() {
		if t, ok := v.clinicalDate(); ok && !p.DataPeriod.contains(t) {
			return false
		}
	}
	if len(p.Data) > 0 {
		ok := false
		for _, d := range p.Data {
			if v.isData(d) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// result evaluates a provision for one resource: 0 when it does not apply.
func (p *Provision) result(a *access) Type {
	if !p.reqMatch(a) || !p.resMatch(a.res) {
		return 0
	}
	r := Type(0)
	for _, c := range p.Provisions {
		switch c.result(a) {
		case Deny:
			return Deny
		case Permit:
			r = Permit
		}
	}
	if r != 0 {
		return r
	}
	return p.Type
}

// deniesAll reports whether the provision denies the request whatever the
// resource. It errs toward false: resources are then checked one by one.
func (p *Provision) deniesAll(a *access) bool {
	if p.hasResourceCriteria() || !p.reqMatch(a) {
		return false
	}
	for _, c := range p.Provisions {
		if c.deniesAll(a) {
			return true
		}
	}
	if p.Type != Deny {
		return false
	}
	for _, c := range p.Provisions {
		if c.mayPermit(a) {
			return false
		}
	}
	return true
}

// mayPermit reports whether the provision may permit some resource.
func (p *Provision) mayPermit(a *access) bool {
	if !p.reqMatch(a) {
		return false
	}
	if p.Type == Permit {
		return true
	}
	for _, c := range p.Provisions {
		if c.mayPermit(a) {
			return true
		}
	}
	return false
}

// resView caches what provisions ask of one resource.
type resView struct {
	res     *fhir.Resource
	tree    map[string]any
	treeErr error
	decoded bool
}

func (v *resView) decode() map[string]any {
	if !v.decoded {
		v.decoded = true
		v.tree, v.treeErr = v.res.Tree()
	}
	return v.tree
}

var lawSystems = map[string]bool{SystemActCode: true, SystemActUSPrivacyLaw: true}

func (v *resView) hasLabel(want []fhir.Coding) bool {
	for _, h := range v.res.Security() {
		for _, w := range want {
			if h.Code == w.Code && (h.System == w.System || lawSystems[h.System] && lawSystems[w.System]) {
				return true
			}
		}
	}
	return false
}

func (v *resView) hasClass(want []fhir.Coding) bool {
	for _, c := range want {
		switch {
		case c.System == SystemResourceTypes:
			if v.res.Type == c.Code {
				return true
			}
		case c.System == SystemMediaType:
			found := false
			walk(v.decode(), func(k string, val any) bool {
				if s, ok := val.(string); ok && k == "contentType" && strings.EqualFold(s, c.Code) {
					found = true
				}
				return !found
			})
			if found {
				return true
			}
		default: // a profile
			if meta, ok := v.decode()["meta"].(map[string]any); ok {
				ps, _ := meta["profile"].([]any)
				for _, p := range ps {
					if s, _ := p.(string); s == c.Code || strings.HasPrefix(s, c.Code+"|") {
						return true
					}
				}
			}
		}
	}
	return false
}

// hasCode reports whether any Coding of the resource is one of want.
func (v *resView) hasCode(want []fhir.Coding) bool {
	found := false
	walk(v.decode(), func(_ string, val any) bool {
		m, ok := val.(map[string]any)
		if !ok {
			return true
		}
		code, _ := m["code"].(string)
		if code == "" {
			return true
		}
		sys, _ := m["system"].(string)
		for _, w := range want {
			if w.Code == code && (w.System == "" || w.System == sys) {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// refersTo reports whether the resource refers to ref (Type/id).
func (v *resView) refersTo(ref string) bool {
	if !bytes.Contains(v.res.Raw, []byte(ref)) {
		return false // cheap: the reference text is not in it at all
	}
	found := false
	walk(v.decode(), func(k string, val any) bool {
		if s, ok := val.(string); ok && k == "reference" && relRef(s) == ref {
			found = true
		}
		return !found
	})
	return found
}

func (v *resView) isData(d Data) bool {
	if v.res.Type+"/"+v.res.ID == d.Reference {
		return true
	}
	return d.Meaning != "instance" && v.refersTo(d.Reference)
}

// clinicalDates are the elements giving a resource's clinical date, in
// order of preference.
var clinicalDates = [][]string{
	{"effectiveDateTime"}, {"effectivePeriod", "start"}, {"effectiveInstant"}, {"issued"},
	{"onsetDateTime"}, {"onsetPeriod", "start"}, {"performedDateTime"}, {"performedPeriod", "start"},
	{"occurrenceDateTime"}, {"occurrencePeriod", "start"}, {"authoredOn"}, {"recordedDate"},
	{"period", "start"}, {"date"}, {"created"}, {"sent"}, {"started"},
}

// clinicalDate returns the resource's clinical date; false when it has
// none (a dataPeriod criterion then holds: the data cannot be shown to be
// outside it).
func (v *resView) clinicalDate() (time.Time, bool) {
	tree := v.decode()
	for _, path := range clinicalDates {
		var cur any = tree
		for _, k := range path {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[k]
		}
		if s, ok := cur.(string); ok {
			if t, _, err := fhirTime(s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// walk calls fn for every member and array element under v (key "" for
// array elements) until fn returns false.
func walk(v any, fn func(key string, val any) bool) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !fn(k, e) || !walk(e, fn) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !fn("", e) || !walk(e, fn) {
				return false
			}
		}
	}
	return true
}
