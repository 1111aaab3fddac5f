package consent

import (
	"slices"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// ActorMatch says which requesters a provision actor's reference (e.g.
// Organization/acme) stands for: any requester matching one of the listed
// values of any field.
type ActorMatch struct {
	ClientIDs []string
	Classes   []string
	Issuers   []string
	Subjects  []string
}

// Options configure a Set.
type Options struct {
	// Notice is what a requester is told when a Consent restricts.
	Notice decision.Notice
	// Disclose tells the requester, in the Bundle, that resources were
	// withheld at the patient's request.
	Disclose bool
	// Actors maps provision actor references to requesters.
	Actors map[string]ActorMatch
}

// Set is the Consents in force. It is immutable and safe for concurrent
// use.
type Set struct {
	opts      Options
	all       []*Consent
	byPatient map[string][]*Consent
	byTag     map[string]*Consent
	// anyone counts Consents that may deny any requester; byKey indexes
	// the others by the requesters they may deny ("ref:Practitioner/1",
	// "client:app", "class:hin", "iss:...", "sub:...").
	anyone int
	byKey  map[string]int
}

// NewSet indexes consents. A later Consent with the id of an earlier one
// replaces it.
func NewSet(consents []*Consent, opts Options) *Set {
	s := &Set{opts: opts, byPatient: map[string][]*Consent{}, byTag: map[string]*Consent{}, byKey: map[string]int{}}
	for _, c := range consents {
		if old, dup := s.byTag[c.Tag()]; dup {
			s.all = slices.DeleteFunc(s.all, func(x *Consent) bool { return x == old })
		}
		s.byTag[c.Tag()] = c
		s.all = append(s.all, c)
	}
	for _, c := range s.all {
		s.byPatient[c.Patient] = append(s.byPatient[c.Patient], c)
		anyone := false
		keys := map[string]bool{}
		denyPaths(c.Root, nil, func(recips []Actor) {
			if len(recips) == 0 {
				anyone = true
			}
			for _, a := range recips {
				for _, k := range s.actorKeys(a) {
					keys[k] = true
				}
			}
		})
		if anyone {
			s.anyone++
		}
		for k := range keys {
			s.byKey[k]++
		}
	}
	return s
}

// denyPaths calls fn for each provision that may deny, with the recipients
// the requester must be one of to reach it (the first provision on the
// way that names any; nil when none does).
func denyPaths(p *Provision, recips []Actor, fn func([]Actor)) {
	if recips == nil && len(p.Recipients) > 0 {
		recips = p.Recipients
	}
	if p.Type == Deny {
		fn(recips)
	}
	for _, c := range p.Provisions {
		denyPaths(c, recips, fn)
	}
}

// actorKeys returns the index keys of the requesters an actor stands for.
func (s *Set) actorKeys(a Actor) []string {
	var ks []string
	if a.Reference != "" {
		ks = append(ks, "ref:"+a.Reference)
		if m, ok := s.opts.Actors[a.Reference]; ok {
			ks = appendKeys(ks, "client:", m.ClientIDs)
			ks = appendKeys(ks, "class:", m.Classes)
			ks = appendKeys(ks, "iss:", m.Issuers)
			ks = appendKeys(ks, "sub:", m.Subjects)
		}
	}
	switch a.System {
	case SystemClientID:
		ks = append(ks, "client:"+a.Value)
	case SystemRequesterClass:
		ks = append(ks, "class:"+a.Value)
	}
	return ks
}

func appendKeys(ks []string, prefix string, vs []string) []string {
	for _, v := range vs {
		ks = append(ks, prefix+v)
	}
	return ks
}

// isRequester reports whether a recipient actor is the requester.
func (s *Set) isRequester(a *Actor, who *decision.Requester) bool {
	if a.Reference != "" {
		if who.FHIRUser != "" && relRef(who.FHIRUser) == a.Reference {
			return true
		}
		if m, ok := s.opts.Actors[a.Reference]; ok &&
			(slices.Contains(m.ClientIDs, who.ClientID) && who.ClientID != "" ||
				slices.Contains(m.Classes, string(who.Class)) && who.Class != "" ||
				slices.Contains(m.Issuers, who.Issuer) && who.Issuer != "" ||
				slices.Contains(m.Subjects, who.Subject) && who.Subject != "") {
			return true
		}
	}
	switch a.System {
	case SystemClientID:
		return who.ClientID != "" && a.Value == who.ClientID
	case SystemRequesterClass:
		return who.Class != "" && a.Value == string(who.Class)
	}
	return false
}

// Len returns the number of Consents in force.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.all)
}

// Consents returns the Consents in force, in load order. It must not be
// modified.
func (s *Set) Consents() []*Consent { return s.all }

// Lookup returns the Consent of a Withhold tag (Consent/<id>).
func (s *Set) Lookup(tag string) (*Consent, bool) {
	c, ok := s.byTag[tag]
	return c, ok
}

// Notice returns what a requester is told when a Consent restricts.
func (s *Set) Notice() decision.Notice { return s.opts.Notice }

// Disclose reports whether withholding is told in Bundles.
func (s *Set) Disclose() bool { return s.opts.Disclose }

// For returns the Consents of a patient.
func (s *Set) For(patient string) []*Consent { return s.byPatient[patient] }

// MayDeny reports whether some Consent may deny the requester something:
// only then must responses be checked resource by resource.
func (s *Set) MayDeny(who *decision.Requester) bool {
	if s.Len() == 0 {
		return false
	}
	if s.anyone > 0 {
		return true
	}
	has := func(k string) bool { return s.byKey[k] > 0 }
	return who.FHIRUser != "" && has("ref:"+relRef(who.FHIRUser)) ||
		who.ClientID != "" && has("client:"+who.ClientID) ||
		who.Class != "" && has("class:"+string(who.Class)) ||
		who.Issuer != "" && has("iss:"+who.Issuer) ||
		who.Subject != "" && has("sub:"+who.Subject)
}

// InPlay reports whether Consent c may deny the requester something.
func (s *Set) InPlay(c *Consent, who *decision.Requester) bool {
	if exempt(c, who) {
		return false
	}
	found := false
	denyPaths(c.Root, nil, func(recips []Actor) {
		if found {
			return
		}
		if len(recips) == 0 {
			found = true
			return
		}
		for i := range recips {
			if s.isRequester(&recips[i], who) {
				found = true
				return
			}
		}
	})
	return found
}

// exempt reports whether who is the Consent's patient, or their personal
// representative: a request not to share never restricts their access.
func exempt(c *Consent, who *decision.Requester) bool {
	if who.FHIRUser != "" && relRef(who.FHIRUser) == "Patient/"+c.Patient {
		return true
	}
	return who.Patient == c.Patient && (who.Class == decision.ClassPatient || who.Class == decision.ClassPersonalRepresentative)
}

// DeniesAll returns the Consent of patient that denies the requester
// everything of the patient's (at at; write for create, update, patch
// and delete), or nil.
func (s *Set) DeniesAll(patient string, who *decision.Requester, at time.Time, write bool) *Consent {
	a := access{set: s, who: who, at: at, write: write}
	for _, c := range s.byPatient[patient] {
		if !exempt(c, who) && c.Root.deniesAll(&a) {
			return c
		}
	}
	return nil
}

// Withhold returns the Consent denying the requester a resource whose
// patients are patients, or nil.
func (s *Set) Withhold(res *fhir.Resource, patients []string, who *decision.Requester, at time.Time, write bool) *Consent {
	var a *access
	for _, p := range patients {
		for _, c := range s.byPatient[p] {
			if exempt(c, who) {
				continue
			}
			if a == nil {
				a = &access{set: s, who: who, at: at, write: write, res: &resView{res: res}}
			}
			if c.Root.result(a) == Deny {
				return c
			}
		}
	}
	return nil
}

// Denies evaluates one Consent for one resource (for tests and tools).
func (c *Consent) Denies(s *Set, res *fhir.Resource, who *decision.Requester, at time.Time, write bool) bool {
	if exempt(c, who) {
		return false
	}
	a := access{set: s, who: who, at: at, write: write, res: &resView{res: res}}
	return c.Root.result(&a) == Deny
}

// String summarises the Consent for logs: its reference and patient.
func (c *Consent) String() string {
	return strings.Join([]string{c.Ref(), "Patient/" + c.Patient}, " ")
}
