package smart

import (
	"strconv"

	"github.com/ehigate/ehigate/fhir"
)

// Reason is why a request or a resource is refused.
type Reason string

// The reasons, as recorded.
const (
	// ReasonOutOfScope: no granted scope covers the request or resource.
	ReasonOutOfScope Reason = "out-of-scope"
	// ReasonWrongPatient: a patient-context grant meets another patient's
	// records, or a request that cannot be limited to its patient.
	ReasonWrongPatient Reason = "wrong-patient"
)

// Result is the authorization of one request.
type Result struct {
	// Reason is empty when the request is allowed.
	Reason Reason
	// Message says why it was refused, in plain language. It names
	// resource types and Bundle entry positions, never ids or values.
	Message string
	// Entry is the position of the refused batch or transaction entry, or
	// -1. It is meaningful only when Reason is set.
	Entry int
	// Narrow, when set, is a search parameter ("name=value", ready to
	// append to a query string) that limits the request to the launch
	// patient. It must be added before the request is forwarded: to the
	// query, or to If-None-Exist for a conditional create.
	Narrow string
	// Filter says that every resource of the response must be checked with
	// Check before it is released.
	Filter bool
	// Opaque says that a response the gateway cannot read resource by
	// resource (not FHIR JSON: XML, a raw Binary) may still be released:
	// the requested type is reached by a user/ or system/ scope without
	// constraints. When Filter is set and Opaque is not, such a response
	// must be refused.
	Opaque bool
}

// Allowed reports whether the request may be forwarded.
func (r Result) Allowed() bool { return r.Reason == "" }

func refuse(reason Reason, msg string) Result {
	return Result{Reason: reason, Message: msg, Entry: -1}
}

// The messages for the patient compartment rules.
const (
	msgOtherPatient = "This access token is limited to the records of the patient in context, and the request names another patient."
	msgCannotLimit  = "This access token is limited to the records of the patient in context, and this request cannot be limited to that patient."
	msgBodyUnread   = "This access token is limited to the records of the patient in context, and the request body could not be checked against that patient."
	msgNoPatientRef = "This access token is limited to the records of the patient in context, and the resource sent does not name that patient."
	msgByID         = "This access token is limited to the records of the patient in context, and a change by id cannot be checked against that patient: use a conditional request that names the patient."
	msgEntryNarrow  = "This access token is limited to the records of the patient in context: each search in a batch or transaction must name that patient."
)

// Authorize decides whether the grant allows req, a request classified
// completely (its body included).
func (g *Grant) Authorize(req *fhir.Request) Result {
	if req.Interaction == fhir.Batch || req.Interaction == fhir.Transaction {
		return g.bundle(req)
	}
	return g.authorize(req)
}

func (g *Grant) authorize(req *fhir.Request) Result {
	switch req.Interaction {
	case fhir.Capabilities, fhir.SmartConfiguration:
		return Result{}
	case fhir.BulkStatus, fhir.BulkFile:
		if !g.anyOther(Read | Search) {
			return refuse(ReasonOutOfScope, "Bulk Data results need user/ or system/ scopes that allow reading.")
		}
		return Result{Filter: !g.full}
	case fhir.Read, fhir.VRead, fhir.HistoryInstance:
		return g.read(req)
	case fhir.SearchType:
		return g.search(req)
	case fhir.SearchSystem:
		return g.searchSystem(req)
	case fhir.HistoryType:
		return g.history(req, req.ResourceType)
	case fhir.HistorySystem:
		return g.history(req, "*")
	case fhir.Create:
		return g.write(req, Create)
	case fhir.Update, fhir.Patch:
		return g.write(req, Update)
	case fhir.Delete:
		return g.write(req, Delete)
	case fhir.Operation:
		return g.operation(req)
	}
	return refuse(ReasonOutOfScope, "This request is not covered by any scope.")
}

// need checks that the grant reaches type t with permission p.
func (g *Grant) need(t string, p Perm) (access, Result, bool) {
	a := g.access(t, p)
	if a.ok {
		return a, Result{}, true
	}
	if a.noPatient {
		return a, refuse(ReasonOutOfScope, "The access token's patient scopes cannot be used: it names no patient in context."), false
	}
	return a, refuse(ReasonOutOfScope, "The access token's scopes do not allow "+verb(p)+" "+typeWords(t)+"."), false
}

// bundle authorizes a batch or transaction entry by entry. The entries
// are forwarded as sent, so one that would need narrowing is refused.
func (g *Grant) bundle(req *fhir.Request) Result {
	var res Result
	for i := range req.Entries {
		r := g.authorize(&req.Entries[i].Request)
		if r.Reason == "" && r.Narrow != "" {
			r = refuse(ReasonWrongPatient, msgEntryNarrow)
		}
		if r.Reason != "" {
			r.Entry = i
			r.Message = "Bundle entry " + strconv.Itoa(i+1) + ": " + r.Message
			return r
		}
		res.Filter = res.Filter || r.Filter
	}
	return res
}

func (g *Grant) read(req *fhir.Request) Result {
	a, res, ok := g.need(req.ResourceType, Read)
	if !ok {
		return res
	}
	if a.patientOnly && namesOther(req, g.Patient) {
		return refuse(ReasonWrongPatient, msgOtherPatient)
	}
	return Result{Filter: !g.full, Opaque: g.plain(req.ResourceType, Read)}
}

func (g *Grant) search(req *fhir.Request) Result {
	t := req.ResourceType
	a, res, ok := g.need(t, Search)
	if !ok {
		return res
	}
	if !a.patientOnly {
		return Result{Filter: !g.full, Opaque: t != "*" && g.plain(t, Search)}
	}
	switch {
	case namesOther(req, g.Patient):
		return refuse(ReasonWrongPatient, msgOtherPatient)
	case len(req.Patients) > 0:
		return Result{Filter: true}
	case t == "*":
		return refuse(ReasonWrongPatient, msgCannotLimit)
	}
	n := narrowParam(t, g.Patient)
	if n == "" {
		if patientLinked(t) {
			return refuse(ReasonWrongPatient, msgCannotLimit)
		}
		return Result{Filter: true}
	}
	return Result{Filter: true, Narrow: n}
}

func (g *Grant) searchSystem(req *fhir.Request) Result {
	types := typeValues(req)
	if len(types) == 0 {
		types = []string{"*"}
	}
	patientOnly := false
	for _, t := range types {
		a, res, ok := g.need(t, Search)
		if !ok {
			return res
		}
		patientOnly = patientOnly || a.patientOnly
	}
	if patientOnly {
		if namesOther(req, g.Patient) {
			return refuse(ReasonWrongPatient, msgOtherPatient)
		}
		if len(req.Patients) == 0 {
			return refuse(ReasonWrongPatient, msgCannotLimit)
		}
	}
	return Result{Filter: !g.full}
}

func (g *Grant) history(req *fhir.Request, t string) Result {
	a, res, ok := g.need(t, Search)
	if !ok {
		return res
	}
	if a.patientOnly && (t == "*" || patientLinked(t)) {
		return refuse(ReasonWrongPatient, msgCannotLimit)
	}
	return Result{Filter: !g.full}
}

// write authorizes create (p Create), update and patch (Update) and
// delete (Delete). Their responses echo what the client wrote and are not
// filtered.
func (g *Grant) write(req *fhir.Request, p Perm) Result {
	t := req.ResourceType
	a, res, ok := g.need(t, p)
	if !ok || !a.patientOnly {
		return res
	}
	if namesOther(req, g.Patient) {
		return refuse(ReasonWrongPatient, msgOtherPatient)
	}
	if !patientLinked(t) {
		return Result{}
	}
	if req.BodyOpaque {
		return refuse(ReasonWrongPatient, msgBodyUnread)
	}
	if p == Create && len(req.Patients) == 0 {
		return refuse(ReasonWrongPatient, msgNoPatientRef)
	}
	if req.Conditional {
		n := narrowParam(t, g.Patient)
		if n == "" {
			return refuse(ReasonWrongPatient, msgCannotLimit)
		}
		return Result{Narrow: n}
	}
	if p == Create || t == "Patient" {
		return Result{} // the body names the patient / the path is the patient itself
	}
	return refuse(ReasonWrongPatient, msgByID)
}

// namesOther reports whether req names a patient other than p.
func namesOther(req *fhir.Request, p string) bool {
	for _, id := range req.Patients {
		if id != p {
			return true
		}
	}
	return false
}

// typeValues returns the resource types of the _type parameters.
func typeValues(req *fhir.Request) []string {
	var out []string
	for i := range req.Params {
		if p := &req.Params[i]; p.Name == "_type" {
			for _, t := range p.Values {
				if fhir.IsResourceType(t) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

func verb(p Perm) string {
	switch p {
	case Create:
		return "creating"
	case Read:
		return "reading"
	case Update:
		return "updating"
	case Delete:
		return "deleting"
	case Search:
		return "searching"
	case Read | Search:
		return "reading and searching"
	}
	return "this access to"
}

func typeWords(t string) string {
	if t == "*" || t == "" {
		return "resources of every type"
	}
	return t + " resources"
}
