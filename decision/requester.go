package decision

// Class is the kind of requester, used by policies to target classes and by
// reports to show that restrictions apply consistently across them.
type Class string

// The requester classes. ClassUnknown is used when no rule classified the
// requester (for example when identity is not configured).
const (
	ClassUnknown                Class = ""
	ClassPatient                Class = "patient"
	ClassPersonalRepresentative Class = "personal-representative"
	ClassProvider               Class = "provider"
	ClassPayer                  Class = "payer"
	ClassApp                    Class = "app"
	ClassHIN                    Class = "hin"
	ClassPublicHealth           Class = "public-health"
	ClassResearch               Class = "research"
	ClassOther                  Class = "other"
)

// Classes lists every named class, in a stable order for reports.
var Classes = []Class{
	ClassPatient, ClassPersonalRepresentative, ClassProvider, ClassPayer,
	ClassApp, ClassHIN, ClassPublicHealth, ClassResearch, ClassOther,
}

// Valid reports whether c is a named class.
func (c Class) Valid() bool {
	for _, k := range Classes {
		if c == k {
			return true
		}
	}
	return false
}

// Requester is who asked: the identity read from the bearer token and the
// class the configuration assigns it. It never holds the token itself.
type Requester struct {
	// Subject is the token's sub claim.
	Subject string `json:"sub,omitempty"`
	// ClientID is the OAuth client the token was issued to.
	ClientID string `json:"client_id,omitempty"`
	// Issuer is the token's iss claim.
	Issuer string `json:"issuer,omitempty"`
	// Class is the requester class assigned by configuration rules.
	Class Class `json:"class,omitempty"`
	// Scopes are the SMART scopes granted, as sent.
	Scopes []string `json:"scopes,omitempty"`
	// Purpose is the purpose of use (v3 ActReason codes) when the token says.
	Purpose []string `json:"purpose,omitempty"`
	// Patient is the launch patient of a patient-context token.
	Patient string `json:"patient,omitempty"`
	// FHIRUser is the fhirUser claim (e.g. Practitioner/123).
	FHIRUser string `json:"fhir_user,omitempty"`
	// TokenHash is a SHA-256 of the token's jti (or of the token when it has
	// none), hex encoded; it links records of one token without keeping it.
	TokenHash string `json:"token_hash,omitempty"`
	// Verified is true when the token's signature (or introspection) was
	// checked by the gateway.
	Verified bool `json:"verified,omitempty"`
	// Addr is the client's network address as seen by the gateway.
	Addr string `json:"addr,omitempty"`
}

// Anonymous reports whether no identity is known.
func (r Requester) Anonymous() bool {
	return r.Subject == "" && r.ClientID == "" && r.Issuer == ""
}
