package consent

import (
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// Code systems and identifier systems the evaluation knows.
const (
	SystemResourceTypes   = "http://hl7.org/fhir/resource-types"
	SystemConsentAction   = "http://terminology.hl7.org/CodeSystem/consentaction"
	SystemActCode         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	SystemActUSPrivacyLaw = "http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw"
	SystemMediaType       = "urn:ietf:bcp:13"
	SystemURI             = "urn:ietf:rfc:3986"
	// SystemClientID identifies a requester by its OAuth client id in a
	// provision actor's reference.identifier.
	SystemClientID = "https://ehigate.dev/fhir/sid/client-id"
	// SystemRequesterClass identifies a class of requesters (patient,
	// provider, payer, app, hin, ...) the same way.
	SystemRequesterClass = "https://ehigate.dev/fhir/sid/requester-class"
)

// Exception is the exception code Consent restrictions cite.
const Exception = "privacy.individual-request"

// Type is what a provision does when it applies.
type Type uint8

// The provision types.
const (
	Permit Type = iota + 1
	Deny
)

func (t Type) flip() Type {
	if t == Deny {
		return Permit
	}
	return Deny
}

// String returns the FHIR code.
func (t Type) String() string {
	switch t {
	case Permit:
		return "permit"
	case Deny:
		return "deny"
	}
	return ""
}

// Consent is one loaded Consent resource.
type Consent struct {
	ID        string
	VersionID string
	// Patient is the id of the Patient the Consent is about.
	Patient string
	// DateTime is when the request was documented.
	DateTime   time.Time
	PolicyRule string
	Root       *Provision
	// Source is where it was read: a file, or "upstream".
	Source string
	// SHA256 is the hex SHA-256 of the resource's bytes as read.
	SHA256 string
}

// Ref returns the reference records carry: Consent/<id>/_history/<vid>
// (Consent/<id> when the resource has no versionId).
func (c *Consent) Ref() string {
	if c.VersionID == "" {
		return "Consent/" + c.ID
	}
	return "Consent/" + c.ID + "/_history/" + c.VersionID
}

// Tag is the Withhold tag of what the Consent withholds.
func (c *Consent) Tag() string { return "Consent/" + c.ID }

// PolicyRef returns the record's reference to the Consent, for action a.
func (c *Consent) PolicyRef(a decision.Action) decision.PolicyRef {
	v := c.VersionID
	if v == "" {
		v = "sha256:" + c.SHA256[:12]
	}
	return decision.PolicyRef{ID: c.Tag(), Version: v, SHA256: c.SHA256, Action: a, Exception: Exception, Consent: c.Ref()}
}

// Provision is one (possibly nested) rule of a Consent.
type Provision struct {
	// Type is resolved: the root's from policyRule when absent, a nested
	// one's the opposite of its parent's when absent.
	Type   Type
	Period Period
	// Recipients are actors the requester must be one of; Sources are
	// actors a resource must refer to (custodian, author, ...).
	Recipients []Actor
	Sources    []Actor
	// Actions are consentaction codes.
	Actions        []string
	SecurityLabels []fhir.Coding
	Purposes       []fhir.Coding
	Classes        []fhir.Coding
	Codes          []fhir.Coding
	DataPeriod     Period
	Data           []Data
	Provisions     []*Provision
}

// Actor is a provision actor.
type Actor struct {
	// Role is the v3-ParticipationType code.
	Role string
	// Reference is a relative reference (e.g. Organization/f001), or "".
	Reference string
	// System and Value are the reference's identifier, when given.
	System, Value string
}

// Data is a provision's data element.
type Data struct {
	// Meaning is instance, related, dependents or authoredby.
	Meaning   string
	Reference string
}

// Period is a time range; zero ends are open.
type Period struct {
	Start, End time.Time
}

// IsZero reports whether the period is not set.
func (p Period) IsZero() bool { return p.Start.IsZero() && p.End.IsZero() }

func (p Period) contains(t time.Time) bool {
	return (p.Start.IsZero() || !t.Before(p.Start)) && (p.End.IsZero() || !t.After(p.End))
}

// hasResourceCriteria reports whether the provision's own criteria depend
// on the resource.
func (p *Provision) hasResourceCriteria() bool {
	return len(p.Sources) > 0 || len(p.SecurityLabels) > 0 || len(p.Classes) > 0 || len(p.Codes) > 0 ||
		!p.DataPeriod.IsZero() || len(p.Data) > 0
}

// sourceRoles are the v3-ParticipationType roles that name where data
// comes from rather than who receives it.
var sourceRoles = map[string]bool{
	"CST": true, "AUT": true, "INF": true, "ENT": true, "PRF": true, "SPRF": true, "PPRF": true,
	"AUTHEN": true, "LA": true, "VRF": true, "RESP": true, "DIST": true,
}

// baseDenies are the policyRule codes whose base is deny.
var baseDenies = map[string]bool{"OPTOUT": true, "OPTOUTE": true, "EMRGONLY": true, "NOCONSENT": true}
