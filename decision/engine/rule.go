package engine

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/fhir"
)

// set is a string set; nil means "no criterion".
type set map[string]struct{}

func setOf(items []string) set {
	if len(items) == 0 {
		return nil
	}
	s := make(set, len(items))
	for _, i := range items {
		s[i] = struct{}{}
	}
	return s
}

func (s set) has(v string) bool {
	_, ok := s[v]
	return ok
}

// any reports whether s holds any of vs.
func (s set) any(vs []string) bool {
	for _, v := range vs {
		if _, ok := s[v]; ok {
			return true
		}
	}
	return false
}

// rule is a policy compiled for matching.
type rule struct {
	p      *policy.Policy
	action decision.Action
	ref    decision.PolicyRef
	exc    *decision.ExceptionRef
	notice decision.Notice
	// limit and delay are a throttle or delay policy's parameters,
	// computed once (limit is shared by every decision).
	limit *decision.ThrottleSpec
	delay *decision.DelaySpec

	classes, notClasses, clients, issuers, subjects, scopes set
	interactions                                            uint64

	// Request-level resource criteria (all actions but redact and delay
	// embargoes).
	types, dataClasses, patients set

	// Per-resource criteria.
	resTypes, resClasses, resPatients set
	labels                            map[fhir.Coding]struct{}
	resWhen                           *policy.Condition
}

func compileRule(s *policy.Set, p *policy.Policy) rule {
	m := &p.Match
	r := rule{
		p: p, action: p.Action, ref: p.Ref(), notice: p.DecisionNotice(),
		classes: setOf(m.Requester.Class), notClasses: setOf(m.Requester.NotClass),
		clients: setOf(m.Requester.ClientID), issuers: setOf(m.Requester.Issuer),
		subjects: setOf(m.Requester.Subject), scopes: setOf(m.Requester.Scopes),
	}
	if e := p.Entry(); e != nil {
		r.exc = s.Catalog().Ref(e)
	}
	if r.limit = p.ThrottleSpec(); r.limit != nil {
		r.limit.Exception, r.limit.Notice = r.exc, r.notice
	}
	if r.delay = p.DelaySpec(); r.delay != nil {
		r.delay.Exception, r.delay.Notice = r.exc, r.notice
	}
	for _, name := range m.Interactions {
		if i, ok := fhir.ParseInteraction(name); ok {
			r.interactions |= 1 << i
		}
	}
	if p.PerResource() {
		r.resTypes, r.resClasses, r.resPatients = setOf(m.ResourceTypes), setOf(m.DataClasses), setOf(m.Patients)
		r.labels = p.Labels()
		r.resWhen = p.ResourceWhen()
	} else {
		r.types, r.dataClasses, r.patients = setOf(m.ResourceTypes), setOf(m.DataClasses), setOf(m.Patients)
	}
	return r
}

// matchRequest checks the request-level criteria, cheapest first; the
// when condition is checked by the caller.
func (r *rule) matchRequest(req *fhir.Request, who *decision.Requester, at time.Time) bool {
	if r.interactions != 0 && !r.matchInteraction(req) {
		return false
	}
	cls := string(who.Class)
	switch {
	case r.classes != nil && !r.classes.has(cls),
		r.notClasses != nil && r.notClasses.has(cls),
		r.clients != nil && !r.clients.has(who.ClientID),
		r.issuers != nil && !r.issuers.has(who.Issuer),
		r.subjects != nil && !r.subjects.has(who.Subject),
		r.scopes != nil && !r.scopes.any(who.Scopes),
		r.types != nil && !mayTouchTypes(req, r.types),
		r.dataClasses != nil && !r.dataClasses.any(req.DataClasses),
		r.patients != nil && !r.patients.any(req.Patients):
		return false
	}
	return r.p.InWindow(at)
}

func (r *rule) matchInteraction(req *fhir.Request) bool {
	if r.interactions&(1<<req.Interaction) != 0 {
		return true
	}
	for i := range req.Entries {
		if r.interactions&(1<<req.Entries[i].Request.Interaction) != 0 {
			return true
		}
	}
	return false
}

// mayTouchTypes reports whether the response to req may hold resources of
// a type in types. It errs on the side of yes: compartment searches over
// every type, system-level searches and history, $everything and $export
// (unless _type narrows them), _include and _revinclude targets, and the
// entries of a batch or transaction all count.
func mayTouchTypes(req *fhir.Request, types set) bool {
	if types.has(req.ResourceType) || req.ResourceType == "*" {
		return true
	}
	wide := req.Interaction == fhir.SearchSystem || req.Interaction == fhir.HistorySystem ||
		(req.Interaction == fhir.Operation && (req.Operation == "everything" || req.Operation == "export")) ||
		req.Interaction == fhir.BulkFile || req.Interaction == fhir.BulkStatus
	if wide {
		if p := req.Param("_type"); p != nil {
			return typesNamed(p.Values, types)
		}
		return true
	}
	for _, p := range req.Params {
		switch p.Name {
		case "_include", "_revinclude":
			for _, v := range p.Values {
				parts := strings.Split(v, ":")
				if v == "*" || parts[0] == "*" {
					return true
				}
				if p.Name == "_revinclude" && types.has(parts[0]) {
					return true
				}
				if p.Name == "_include" && (len(parts) < 3 || types.has(parts[2])) {
					return true
				}
			}
		case "_type":
			if typesNamed(p.Values, types) {
				return true
			}
		}
	}
	for i := range req.Entries {
		if mayTouchTypes(&req.Entries[i].Request, types) {
			return true
		}
	}
	return false
}

func typesNamed(vs []string, types set) bool {
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			if types.has(strings.TrimSpace(t)) {
				return true
			}
		}
	}
	return false
}

// resourceView caches what several rules may ask of one resource.
type resourceView struct {
	res      *fhir.Resource
	classes  []string
	patients []string
	tree     map[string]any
	treeErr  error
	gotClass bool
	gotPat   bool
	gotTree  bool
}

func (v *resourceView) dataClasses() []string {
	if !v.gotClass {
		v.classes, v.gotClass = fhir.DataClassesOf(v.res), true
	}
	return v.classes
}

func (v *resourceView) patientIDs() []string {
	if !v.gotPat {
		v.patients, v.gotPat = v.res.Patients(), true
	}
	return v.patients
}

func (v *resourceView) decoded() (map[string]any, error) {
	if !v.gotTree {
		v.gotTree = true
		v.tree, v.treeErr = v.res.Tree()
		if v.treeErr == nil {
			policy.CELNumbers(v.tree)
		}
	}
	return v.tree, v.treeErr
}

// matchResource checks the per-resource criteria: types and labels first,
// the decoded resource only when a condition needs it.
func (r *rule) matchResource(v *resourceView, now time.Time) bool {
	res := v.res
	if r.resTypes != nil && !r.resTypes.has(res.Type) {
		return false
	}
	if r.labels != nil && !(mayHaveLabels(res) && hasLabel(res.Security(), r.labels)) {
		return false
	}
	if r.resClasses != nil && !r.resClasses.any(v.dataClasses()) {
		return false
	}
	if r.resPatients != nil && !r.resPatients.any(v.patientIDs()) {
		return false
	}
	if r.resWhen != nil {
		tree, err := v.decoded()
		if err != nil {
			return false
		}
		// Only here does the view's content reach the heap (CEL takes an
		// interface): the common resource without a condition costs no
		// allocation for its view.
		ok, err := r.resWhen.Eval(&policy.ResourceVars{Resource: tree, Now: now})
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// mayHaveLabels is a cheap test before meta is decoded: a meta without
// the key security (in any letter case, as the decoder accepts it, and
// without escapes that could spell it) has none.
func mayHaveLabels(res *fhir.Resource) bool {
	meta, ok := res.Get("meta")
	if !ok {
		return false
	}
	if bytes.IndexByte(meta, '\\') >= 0 {
		return true
	}
	const key = `"security"`
	for i := bytes.IndexByte(meta, '"'); i >= 0 && i+len(key) <= len(meta); {
		if bytes.EqualFold(meta[i:i+len(key)], []byte(key)) {
			return true
		}
		j := bytes.IndexByte(meta[i+1:], '"')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func hasLabel(cs []fhir.Coding, labels map[fhir.Coding]struct{}) bool {
	for _, c := range cs {
		if _, ok := labels[c]; ok {
			return true
		}
	}
	return false
}

// withholder returns the Withhold function of a decision: the first
// redact rule whose per-resource criteria hold withholds the resource. A
// resource is also withheld whole when one of its parts would be: a
// contained resource, or an entry of a document or message Bundle (which
// cannot lose entries and stay what it is).
func withholder(rules []*rule, now time.Time) func(*fhir.Resource) (bool, string) {
	rules = slices.Clip(rules)
	return func(res *fhir.Resource) (bool, string) {
		return withholdPart(rules, res, now, 0)
	}
}

// maxPartDepth bounds how deep parts of parts are looked into.
const maxPartDepth = 4

func withholdPart(rules []*rule, res *fhir.Resource, now time.Time, depth int) (bool, string) {
	v := resourceView{res: res}
	for _, r := range rules {
		if r.matchResource(&v, now) {
			return true, r.p.ID
		}
	}
	if depth >= maxPartDepth {
		return false, ""
	}
	var p *fhir.Resource // made for the first part, reused: each is judged before the next
	for _, part := range parts(res) {
		if p == nil {
			p = new(fhir.Resource)
		}
		if p.Reset(part) != nil {
			continue
		}
		if w, id := withholdPart(rules, p, now, depth+1); w {
			return true, id
		}
	}
	return false, ""
}

// parts returns the raw contained resources of res and, for a document or
// message Bundle, its entries' resources.
func parts(res *fhir.Resource) []json.RawMessage {
	var out []json.RawMessage
	if raw, ok := res.Get("contained"); ok {
		var cs []json.RawMessage
		if json.Unmarshal(raw, &cs) == nil {
			out = append(out, cs...)
		}
	}
	if res.Type != "Bundle" {
		return out
	}
	var t string
	if !res.Member("type", &t) || (t != "document" && t != "message") {
		return out
	}
	if raw, ok := res.Get("entry"); ok {
		var es []struct {
			Resource json.RawMessage `json:"resource"`
		}
		if json.Unmarshal(raw, &es) == nil {
			for _, e := range es {
				if len(e.Resource) > 0 {
					out = append(out, e.Resource)
				}
			}
		}
	}
	return out
}
