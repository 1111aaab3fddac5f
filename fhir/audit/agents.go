package audit

import (
	"net"
	"strings"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// clientAgent is the requesting application.
func clientAgent(q decision.Requester) Agent {
	a := Agent{Who: &Reference{}}
	if id := clean(q.ClientID); id != "" {
		a.Who.Identifier = &Identifier{Value: id}
		if iss := clean(q.Issuer); isURI(iss) {
			a.Who.Identifier.System = iss
		}
	} else {
		a.Who.Display = "unidentified client"
	}
	if addr := clean(q.Addr); addr != "" {
		a.Network = &Network{Address: addr, Type: "1"}
		if net.ParseIP(addr) != nil {
			a.Network.Type = "2"
		}
	}
	return a
}

// userAgent returns the requesting user, or nil when no identity is known.
func userAgent(q decision.Requester, purposes []CodeableConcept) *Agent {
	if q.Subject == "" && q.FHIRUser == "" {
		return nil
	}
	a := &Agent{Who: &Reference{}, Requestor: true, PurposeOfUse: purposes}
	if sub := clean(q.Subject); sub != "" {
		a.Who.Identifier = &Identifier{Value: sub}
		if iss := clean(q.Issuer); isURI(iss) {
			a.Who.Identifier.System = iss
		}
	}
	if typ, id, ok := strings.Cut(q.FHIRUser, "/"); ok && userTypes[typ] && fhir.ValidID(id) {
		a.Who.Reference = typ + "/" + id
	}
	if a.Who.Identifier == nil && a.Who.Reference == "" {
		a.Who.Display = "unidentified user"
	}
	if q.Class.Valid() {
		a.Role = []CodeableConcept{{Coding: []Coding{{System: ClassSystem, Code: string(q.Class)}}}}
	}
	return a
}

// userTypes are the resource types agent.who may reference.
var userTypes = map[string]bool{"Practitioner": true, "PractitionerRole": true, "Patient": true, "RelatedPerson": true, "Organization": true, "Device": true}

func purposeOfUse(codes []string) []CodeableConcept {
	var out []CodeableConcept
	for _, c := range codes {
		if validCode(c) {
			out = append(out, CodeableConcept{Coding: []Coding{{System: actReason, Code: c}}})
		}
	}
	return out
}

// consentEntities names the patients' Consents that drove the decision.
func consentEntities(r *decision.Record) []Entity {
	var out []Entity
	seen := map[string]bool{}
	for _, p := range r.Policies {
		if p.Consent == "" || p.Lapsed || seen[p.Consent] {
			continue
		}
		seen[p.Consent] = true
		out = append(out, Entity{Type: ptr(consentType), What: consentRef(p.Consent)})
	}
	return out
}

func consentRef(s string) *Reference {
	segs := strings.Split(s, "/")
	ok := len(segs) >= 2 && segs[0] == "Consent" && fhir.ValidID(segs[1])
	if ok && len(segs) == 4 {
		ok = segs[2] == "_history" && fhir.ValidID(segs[3])
	} else if len(segs) != 2 {
		ok = false
	}
	if ok {
		return &Reference{Reference: s}
	}
	return &Reference{Type: "Consent", Identifier: &Identifier{Value: clean(s)}}
}

func patientRef(id string) *Reference {
	if fhir.ValidID(id) {
		return &Reference{Reference: "Patient/" + id}
	}
	return &Reference{Type: "Patient", Identifier: &Identifier{Value: clean(id)}}
}

// dataRef is the resource a read or write concerned: Type/id (with its
// version for a vread), the type alone for a write with no id, or the
// request path.
func dataRef(r *decision.Record) *Reference {
	typ := r.ResourceType
	if r.Interaction == "capabilities" {
		typ = "CapabilityStatement"
	}
	if !fhir.IsResourceType(typ) {
		if p := clean(r.Path); p != "" {
			return &Reference{Display: p}
		}
		return &Reference{Display: "unknown"}
	}
	if !fhir.ValidID(r.ResourceID) {
		return &Reference{Type: typ}
	}
	ref := typ + "/" + r.ResourceID
	if r.Interaction == "vread" {
		if _, v, ok := strings.Cut(r.Path, "/_history/"); ok && fhir.ValidID(v) {
			ref += "/_history/" + v
		}
	}
	return &Reference{Reference: ref}
}

// ptr returns a pointer to a copy of c, so that events share no codings.
func ptr(c Coding) *Coding { return &c }

func interactionCoding(interaction string, restful bool) Coding {
	if interaction == "" {
		return Coding{}
	}
	if !restful {
		if !validCode(interaction) {
			return Coding{}
		}
		return Coding{System: InteractionSystem, Code: interaction}
	}
	return Coding{System: interactionSystem, Code: interaction}
}

// instant renders a time as a FHIR instant, UTC with microseconds (the
// journal's precision).
func instant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
