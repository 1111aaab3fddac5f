package audit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// Options configure a Builder.
type Options struct {
	// Server is the FHIR base URL requesters use (the gateway's public
	// base URL): the server agent's address and the observer's identifier.
	Server string
	// Site is source.site (default: the host of Server).
	Site string
	// Name names the gateway in the server agent and the observer
	// (default "ehigate").
	Name string
	// PolicyBase prefixes the policy URIs of agent.policy: PolicyBase +
	// id + "@" + version (default DefaultPolicyBase).
	PolicyBase string
	// CFR returns the CFR cite of an exception code, for deciding policies
	// whose exception is not the record's; optional.
	CFR func(code string) string
}

// Builder makes the AuditEvents of decision records. It is safe for
// concurrent use.
type Builder struct {
	opts     Options
	observer Reference
	network  *Network
}

// NewBuilder returns a Builder for opts.
func NewBuilder(opts Options) *Builder {
	if opts.Name == "" {
		opts.Name = "ehigate"
	}
	if opts.PolicyBase == "" {
		opts.PolicyBase = DefaultPolicyBase
	}
	opts.Server = clean(opts.Server)
	if opts.Site == "" {
		if u, err := url.Parse(opts.Server); err == nil {
			opts.Site = u.Host
		}
	}
	b := &Builder{opts: opts, observer: Reference{Display: clean(opts.Name)}}
	if isURI(opts.Server) {
		b.observer.Identifier = &Identifier{System: uriSystem, Value: opts.Server}
		b.network = &Network{Address: opts.Server, Type: "5"}
	}
	return b
}

// PolicyURI returns the URI naming a policy version in agent.policy.
func (b *Builder) PolicyURI(id, version string) string {
	return b.opts.PolicyBase + url.PathEscape(clean(id)) + "@" + url.PathEscape(clean(version))
}

// policyURI names a deciding policy: the patient's Consent on the FHIR
// server for a policy derived from one, else PolicyURI.
func (b *Builder) policyURI(p decision.PolicyRef) string {
	if c := clean(p.Consent); isURI(c) && isURI(b.opts.Server) {
		return strings.TrimSuffix(b.opts.Server, "/") + "/" + c
	}
	return b.PolicyURI(p.ID, p.Version)
}

// Events returns the AuditEvents of a record: one, or one per patient
// when it names several, in the order of its (sorted) patients.
func (b *Builder) Events(r *decision.Record) []AuditEvent {
	patients := r.Patients
	if len(patients) == 0 {
		patients = []string{""}
	}
	out := make([]AuditEvent, 0, len(patients))
	for _, p := range patients {
		out = append(out, b.event(r, p))
	}
	return out
}

// EventIDs returns the ids of the events Events makes for r, in order.
func EventIDs(r *decision.Record) []string {
	if len(r.Patients) == 0 {
		return []string{EventID(r.ID, "")}
	}
	ids := make([]string, len(r.Patients))
	for i, p := range r.Patients {
		ids[i] = EventID(r.ID, p)
	}
	return ids
}

// EventID derives an event id from a record id and, for an event naming a
// patient, the patient id: the record id (or, when that is not a FHIR id
// of at most 48 characters, 32 hex digits of its SHA-256), followed for a
// patient by "-" and 12 hex digits of the SHA-256 of the patient id.
func EventID(recordID, patient string) string {
	base := recordID
	if len(base) > 48 || !fhir.ValidID(base) {
		sum := sha256.Sum256([]byte(recordID))
		base = hex.EncodeToString(sum[:16])
	}
	if patient == "" {
		return base
	}
	sum := sha256.Sum256([]byte(patient))
	return base + "-" + hex.EncodeToString(sum[:6])
}

// PatternOf returns the pattern of a record's events: AuthZ for a
// restriction (deny, redact, throttle, delay) or a refused identity,
// otherwise the REST pattern of its interaction.
func PatternOf(r *decision.Record) Pattern {
	if authz(r) {
		return AuthZ
	}
	p, _, _ := interactionPattern(r.Interaction)
	return p
}

func authz(r *decision.Record) bool {
	return r.Action.Restricts() || (r.Action == decision.Error && r.Reason == "unauthenticated")
}

// event builds the event of r for one patient ("" for none).
func (b *Builder) event(r *decision.Record, patient string) AuditEvent {
	rest, action, restful := interactionPattern(r.Interaction)
	ev := AuditEvent{
		ResourceType: "AuditEvent",
		ID:           EventID(r.ID, patient),
		Recorded:     instant(r.DecidedAt),
		Source:       Source{Site: clean(b.opts.Site), Observer: b.observerRef()},
	}
	if r.DecidedAt.IsZero() {
		ev.Recorded = instant(r.ReceivedAt)
	}
	if !r.ReceivedAt.IsZero() {
		ev.Period = &Period{Start: instant(r.ReceivedAt)}
	}
	if r.FulfilledAt != nil {
		ev.Recorded = instant(*r.FulfilledAt)
		if ev.Period != nil {
			ev.Period.End = instant(*r.FulfilledAt)
		}
	}
	sub := interactionCoding(r.Interaction, restful)
	deciding := decidingPolicies(r)
	var uris []string
	for _, p := range deciding {
		uris = append(uris, b.policyURI(p))
	}
	purposes := purposeOfUse(r.Requester.Purpose)
	user := userAgent(r.Requester, purposes)
	client := clientAgent(r.Requester)
	if user == nil {
		client.Requestor = true
	}
	consents := consentEntities(r)

	if authz(r) {
		ev.Type = securityAlert
		authzSub := Coding{System: authzSubtype, Code: "AuthZ-Role", Display: "Authorization Decision using only Roles"}
		if len(consents) > 0 {
			authzSub = Coding{System: authzSubtype, Code: "AuthZ-Consent", Display: "Authorization Decision using Roles and Consent"}
		}
		ev.Subtype = append(ev.Subtype, authzSub)
		ev.Action = "E"
		ev.PurposeOfEvent = purposes
		ev.Source.Type = []Coding{securityServ}
		client.Type = &CodeableConcept{Coding: []Coding{appAgent}}
		if user != nil {
			_, _, ut := agentTypes(Read)
			user.Type = &CodeableConcept{Coding: []Coding{ut}}
		}
	} else {
		ev.Type = restType
		ev.Action = action
		ev.Source.Type = []Coding{appServer}
		ct, _, ut := agentTypes(rest)
		client.Type = &CodeableConcept{Coding: []Coding{ct}}
		if user != nil {
			user.Type = &CodeableConcept{Coding: []Coding{ut}}
		}
	}
	if sub.Code != "" {
		ev.Subtype = append(ev.Subtype, sub)
	}
	ev.Outcome, ev.OutcomeDesc = outcome(r)
	if ev.Outcome == OutcomeSuccess && !authz(r) && profiled(rest, r.Interaction) {
		name := string(rest)
		if patient != "" {
			name = "Patient" + name
		}
		ev.Meta = &Meta{Profile: []string{profileBase + name}}
	}

	ev.Agent = append(ev.Agent, client)
	if user != nil {
		user.Policy = uris
		ev.Agent = append(ev.Agent, *user)
	} else {
		ev.Agent[0].Policy = uris
	}
	obs := b.observerRef()
	server := Agent{Who: &obs}
	if b.network != nil {
		n := *b.network
		server.Network = &n
	}
	if authz(r) {
		server.Type = &CodeableConcept{Coding: []Coding{authServer}}
		server.Network = nil
	} else {
		_, st, _ := agentTypes(rest)
		server.Type = &CodeableConcept{Coding: []Coding{st}}
	}
	ev.Agent = append(ev.Agent, server)

	ev.Entity = append(ev.Entity, Entity{
		Type: ptr(requestIDType),
		What: &Reference{Identifier: &Identifier{System: DecisionSystem, Value: clean(r.ID)}},
	})
	if patient != "" {
		ev.Entity = append(ev.Entity, Entity{Type: ptr(person), Role: ptr(patientRole), What: patientRef(patient)})
	}
	if rest == Query {
		q := Entity{Type: ptr(systemObject), Role: ptr(queryRole), Description: clean(r.Method + " " + r.Path)}
		if r.Path != "" {
			q.Query = base64.StdEncoding.EncodeToString([]byte(r.Path))
		}
		ev.Entity = append(ev.Entity, q)
	} else {
		ev.Entity = append(ev.Entity, Entity{Type: ptr(systemObject), Role: ptr(domainRole), What: dataRef(r)})
	}
	ev.Entity = append(ev.Entity, consents...)
	ev.Extension = b.exceptionExtensions(r, deciding)
	return ev
}

// observerRef returns a copy of the gateway's reference.
func (b *Builder) observerRef() Reference {
	r := b.observer
	if r.Identifier != nil {
		id := *r.Identifier
		r.Identifier = &id
	}
	return r
}

// decidingPolicies returns the policies that decided the record's action:
// those that asked for it and did not lapse (for an error, those that
// restricted before it failed).
func decidingPolicies(r *decision.Record) []decision.PolicyRef {
	var out []decision.PolicyRef
	for _, p := range r.Policies {
		if p.Lapsed {
			continue
		}
		if p.Action == r.Action || (r.Action == decision.Error && p.Action.Restricts()) {
			out = append(out, p)
		}
	}
	return out
}
