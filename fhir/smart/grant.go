package smart

import "github.com/ehigate/ehigate/fhir"

// Grant is what one token allows: its resource scopes, bound to the launch
// patient for patient/ scopes, and the fhirUser it was issued for. A Grant
// is read-only once built and safe for concurrent use.
type Grant struct {
	// Scopes are the resource scopes granted; other scopes are not kept.
	Scopes []Scope
	// Patient is the launch patient's id. Without one, patient/ scopes
	// grant nothing.
	Patient string
	// FHIRUser is the fhirUser claim (e.g. Practitioner/123), kept for
	// policies; it widens nothing here.
	FHIRUser string
	// Invalid counts malformed resource scopes, which grant nothing.
	Invalid int

	full bool
}

// NewGrant builds the Grant of a token from its scopes (as sent, one per
// element), launch patient and fhirUser. A patient that is not a valid
// FHIR id is ignored.
func NewGrant(scopes []string, patient, fhirUser string) *Grant {
	g := &Grant{FHIRUser: fhirUser}
	if fhir.ValidID(patient) {
		g.Patient = patient
	}
	g.Scopes, g.Invalid = ParseScopes(scopes)
	for i := range g.Scopes {
		s := &g.Scopes[i]
		if s.Context != ContextPatient && s.Type == "*" && s.Perms.Has(Read|Search) && len(s.Constraints) == 0 {
			g.full = true
		}
	}
	return g
}

// Full reports whether the grant reads everything unfiltered: a user/ or
// system/ "*" scope with r and s and no constraints. Responses of a full
// grant need no per-resource check.
func (g *Grant) Full() bool { return g.full }

// usable reports whether scope s can be used: patient/ scopes need a
// launch patient.
func (g *Grant) usable(s *Scope) bool {
	return s.Context != ContextPatient || g.Patient != ""
}

// access is how a (type, permission) pair is reachable.
type access struct {
	// ok: some usable scope covers it.
	ok bool
	// patientOnly: only patient/ scopes cover it, so the patient
	// compartment rules apply.
	patientOnly bool
	// noPatient: patient/ scopes would cover it, but the token has no
	// launch patient.
	noPatient bool
}

// access reports how the grant reaches resources of type t (a type, or "*"
// for any type) with every permission of p. For "*", a scope on any one
// type counts: the response check then removes the rest.
func (g *Grant) access(t string, p Perm) access {
	var a access
	for i := range g.Scopes {
		s := &g.Scopes[i]
		if !s.Perms.Has(p) || !(t == "*" || s.Covers(t)) {
			continue
		}
		if !g.usable(s) {
			a.noPatient = true
			continue
		}
		if s.Context != ContextPatient {
			return access{ok: true}
		}
		a.ok, a.patientOnly = true, true
	}
	return a
}

// accessOther is access through user/ and system/ scopes only.
func (g *Grant) accessOther(t string, p Perm) bool {
	for i := range g.Scopes {
		s := &g.Scopes[i]
		if s.Context != ContextPatient && s.Perms.Has(p) && (t == "*" && s.Type == "*" || t != "*" && s.Covers(t)) {
			return true
		}
	}
	return false
}

// anyScope reports whether some usable scope has any permission of p.
func (g *Grant) anyScope(p Perm) bool {
	for i := range g.Scopes {
		if s := &g.Scopes[i]; s.Perms&p != 0 && g.usable(s) {
			return true
		}
	}
	return false
}

// anyOther reports whether some user/ or system/ scope has any
// permission of p.
func (g *Grant) anyOther(p Perm) bool {
	for i := range g.Scopes {
		if s := &g.Scopes[i]; s.Context != ContextPatient && s.Perms&p != 0 {
			return true
		}
	}
	return false
}

// plain reports whether a user/ or system/ scope without constraints
// reaches type t with permission p.
func (g *Grant) plain(t string, p Perm) bool {
	for i := range g.Scopes {
		if s := &g.Scopes[i]; s.Context != ContextPatient && s.Perms.Has(p) && s.Covers(t) && len(s.Constraints) == 0 {
			return true
		}
	}
	return false
}
