package smart

import "github.com/ehigate/ehigate/fhir"

// terminologyOps are the terminology operations: they disclose no EHI and
// need only some resource scope.
var terminologyOps = map[string]bool{
	"expand": true, "lookup": true, "validate-code": true, "translate": true, "subsumes": true, "closure": true,
}

// operation authorizes an extended operation:
//
//   - $export (Bulk Data) needs user/ or system/ scopes with r and s on
//     each _type (or on "*"); patient/ scopes never export.
//   - $everything on an instance needs r on the instance's type and s on
//     some type; a patient-context grant reaches only its own Patient (and
//     Encounters, filtered), never a Group. At type level it covers every
//     patient and needs s on the type through a user/ or system/ scope.
//   - $lastn is a search.
//   - $validate needs c, r or u on the type.
//   - Terminology operations need some resource scope.
//   - Any other operation needs r on the instance's type, or s on the type
//     (s on any type at system level); patient-context grants must name
//     their patient above instance level.
//
// Every response but those of $validate and terminology operations is
// checked resource by resource.
func (g *Grant) operation(req *fhir.Request) Result {
	t := req.ResourceType
	switch op := req.Operation; {
	case op == "export":
		types := typeValues(req)
		if len(types) == 0 {
			types = []string{"*"}
		}
		for _, ty := range types {
			if !g.accessOther(ty, Read|Search) {
				return refuse(ReasonOutOfScope, "A Bulk Data export needs user/ or system/ scopes that allow reading and searching "+typeWords(ty)+".")
			}
		}
		return Result{Filter: !g.full}
	case op == "everything":
		return g.everything(req)
	case op == "lastn":
		return g.search(req)
	case op == "validate":
		if t == "" {
			t = "*"
		}
		if !g.access(t, Create).ok && !g.access(t, Update).ok && !g.access(t, Read).ok {
			return refuse(ReasonOutOfScope, "The access token's scopes do not allow any access to "+typeWords(t)+".")
		}
		return Result{}
	case terminologyOps[op]:
		if !g.anyScope(AllPerms) {
			return refuse(ReasonOutOfScope, "The access token grants no resource scope.")
		}
		return Result{}
	}
	switch req.Level {
	case fhir.LevelInstance:
		return g.read(req)
	case fhir.LevelType:
		a, res, ok := g.need(t, Search)
		if !ok {
			return res
		}
		if a.patientOnly && !g.namesOnlyOwn(req, patientLinked(t)) {
			return g.otherOrCannot(req)
		}
		return Result{Filter: !g.full}
	}
	a, res, ok := g.need("*", Search)
	if !ok {
		return res
	}
	if a.patientOnly && !g.namesOnlyOwn(req, true) {
		return g.otherOrCannot(req)
	}
	return Result{Filter: !g.full}
}

func (g *Grant) everything(req *fhir.Request) Result {
	t := req.ResourceType
	if req.Level != fhir.LevelInstance {
		if !g.accessOther(t, Search) {
			if g.access(t, Search).ok {
				return refuse(ReasonWrongPatient, msgCannotLimit)
			}
			return refuse(ReasonOutOfScope, "The access token's scopes do not allow "+verb(Search)+" "+typeWords(t)+".")
		}
		return Result{Filter: !g.full}
	}
	a, res, ok := g.need(t, Read)
	if !ok {
		return res
	}
	if !g.anyScope(Search) {
		return refuse(ReasonOutOfScope, "$everything needs a scope that allows searching.")
	}
	if a.patientOnly {
		if namesOther(req, g.Patient) {
			return refuse(ReasonWrongPatient, msgOtherPatient)
		}
		if t == "Group" {
			return refuse(ReasonWrongPatient, msgCannotLimit)
		}
	}
	return Result{Filter: !g.full}
}

// namesOnlyOwn reports whether req names the launch patient and no other
// (or names none, when required is false).
func (g *Grant) namesOnlyOwn(req *fhir.Request, required bool) bool {
	if namesOther(req, g.Patient) {
		return false
	}
	return len(req.Patients) > 0 || !required
}

func (g *Grant) otherOrCannot(req *fhir.Request) Result {
	if namesOther(req, g.Patient) {
		return refuse(ReasonWrongPatient, msgOtherPatient)
	}
	return refuse(ReasonWrongPatient, msgCannotLimit)
}
