package policy

import (
	"fmt"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/fhir"
)

// File is one policy file: a top-level list of policies.
type File struct {
	Policies []*Policy `yaml:"policies"`
}

// Policy is one policy as written in a policy file. The YAML (and
// canonical JSON) names are a public contract documented in
// configs/README.md.
type Policy struct {
	// ID names the policy; it is unique in the set.
	ID string `yaml:"id" json:"id"`
	// Version is the policy's version; a changed text needs a new one.
	Version     string `yaml:"version" json:"version"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Action is allow, redact, throttle, delay or deny.
	Action decision.Action `yaml:"action" json:"action"`
	// Exception is the catalog code the policy relies on, e.g.
	// "infeasibility.segmentation"; required unless the action is allow.
	Exception     string        `yaml:"exception" json:"exception,omitempty"`
	Match         Match         `yaml:"match" json:"match,omitzero"`
	Documentation Documentation `yaml:"documentation" json:"documentation,omitzero"`
	// Reviews document each review of the policy.
	Reviews []Review `yaml:"reviews" json:"reviews,omitempty"`
	// OnReviewOverdue is keep (the default: enforce, flagged) or lapse
	// (stop enforcing once review_by has passed).
	OnReviewOverdue string `yaml:"on_review_overdue" json:"on_review_overdue,omitempty"`
	Notice          Notice `yaml:"notice" json:"notice,omitzero"`
	// DiscloseWithholding (redact only) is true unless the documentation
	// gives a nondisclosure_reason.
	DiscloseWithholding *bool     `yaml:"disclose_withholding" json:"disclose_withholding,omitempty"`
	Throttle            *Throttle `yaml:"throttle" json:"throttle,omitempty"`
	Delay               *Delay    `yaml:"delay" json:"delay,omitempty"`

	// Computed when the set loads.
	src       source
	entry     *exceptions.Entry
	canonical []byte
	sha       string
	when      *Condition
	resWhen   *Condition
	window    *window
	labels    map[fhir.Coding]struct{}
	rate      float64
	lastRev   time.Time
}

// Match says which requests (and, for redaction, which resources) a policy
// applies to. Every criterion given must hold; a list holds when any of its
// items does.
type Match struct {
	Requester     RequesterMatch `yaml:"requester" json:"requester,omitzero"`
	Interactions  []string       `yaml:"interactions" json:"interactions,omitempty"`
	ResourceTypes []string       `yaml:"resource_types" json:"resource_types,omitempty"`
	// DataClasses are USCDI data class names (fhir.DataClassNames).
	DataClasses []string `yaml:"data_classes" json:"data_classes,omitempty"`
	// SecurityLabels are system|code pairs matched against meta.security;
	// a privacy-law code matches in both v3-ActCode and v3-ActUSPrivacyLaw.
	SecurityLabels []string `yaml:"security_labels" json:"security_labels,omitempty"`
	Patients       []string `yaml:"patients" json:"patients,omitempty"`
	Window         *Window  `yaml:"window" json:"window,omitempty"`
	// When is a CEL condition over request, requester and now.
	When string `yaml:"when" json:"when,omitempty"`
	// ResourceWhen is a CEL condition over resource (the decoded resource)
	// and now, evaluated for each resource of a response.
	ResourceWhen string `yaml:"resource_when" json:"resource_when,omitempty"`
}

// RequesterMatch matches requester attributes.
type RequesterMatch struct {
	Class    []string `yaml:"class" json:"class,omitempty"`
	NotClass []string `yaml:"not_class" json:"not_class,omitempty"`
	ClientID []string `yaml:"client_id" json:"client_id,omitempty"`
	Issuer   []string `yaml:"issuer" json:"issuer,omitempty"`
	Subject  []string `yaml:"subject" json:"subject,omitempty"`
	// Scopes match when the requester was granted any of them.
	Scopes []string `yaml:"scopes" json:"scopes,omitempty"`
}

// Window limits a policy to a period and, optionally, to weekly hours.
type Window struct {
	From     *time.Time `yaml:"from" json:"from,omitempty"`
	To       *time.Time `yaml:"to" json:"to,omitempty"`
	TimeZone string     `yaml:"time_zone" json:"time_zone,omitempty"`
	Weekly   []Slot     `yaml:"weekly" json:"weekly,omitempty"`
}

// Slot is a weekly time range, e.g. days [sat, sun], 00:00 to 24:00.
type Slot struct {
	Days []string `yaml:"days" json:"days"`
	From string   `yaml:"from" json:"from"`
	To   string   `yaml:"to" json:"to"`
}

// Documentation is the record of why the policy exists and who decided it.
type Documentation struct {
	Rationale        string    `yaml:"rationale" json:"rationale,omitempty"`
	DecidedBy        Person    `yaml:"decided_by" json:"decided_by,omitzero"`
	DecidedAt        time.Time `yaml:"decided_at" json:"decided_at,omitzero"`
	EHIScope         string    `yaml:"ehi_scope" json:"ehi_scope,omitempty"`
	MinimumNecessary string    `yaml:"minimum_necessary" json:"minimum_necessary,omitempty"`
	ReviewBy         time.Time `yaml:"review_by" json:"review_by,omitzero"`
	// Evidence references risk analyses, audit reports, laws.
	Evidence []string `yaml:"evidence" json:"evidence,omitempty"`
	// Conditions hold the fields the cited sub-condition requires, by the
	// names the catalog gives them.
	Conditions map[string]any `yaml:"conditions" json:"conditions,omitempty"`
	// NondisclosureReason explains disclose_withholding: false.
	NondisclosureReason string `yaml:"nondisclosure_reason" json:"nondisclosure_reason,omitempty"`
	// ConcealExistenceReason explains notice.status 404.
	ConcealExistenceReason string `yaml:"conceal_existence_reason" json:"conceal_existence_reason,omitempty"`
}

// Person is who decided.
type Person struct {
	Name        string `yaml:"name" json:"name,omitempty"`
	Role        string `yaml:"role" json:"role,omitempty"`
	Credentials string `yaml:"credentials" json:"credentials,omitempty"`
}

// Review documents one review of the policy.
type Review struct {
	By string    `yaml:"by" json:"by"`
	At time.Time `yaml:"at" json:"at"`
	// Outcome is continue, amend or end.
	Outcome string `yaml:"outcome" json:"outcome"`
	Notes   string `yaml:"notes" json:"notes,omitempty"`
}

// Notice is what the requester is told.
type Notice struct {
	Message           string `yaml:"message" json:"message,omitempty"`
	NextStep          string `yaml:"next_step" json:"next_step,omitempty"`
	Contact           string `yaml:"contact" json:"contact,omitempty"`
	AlternativeManner string `yaml:"alternative_manner" json:"alternative_manner,omitempty"`
	// Status is 403 (the default) or 404 (existence must not be revealed).
	Status int `yaml:"status" json:"status,omitempty"`
}

// Throttle parameters a throttle policy.
type Throttle struct {
	// Key is subject, client_id, class, patient or global.
	Key string `yaml:"key" json:"key"`
	// Rate is requests per second, minute or hour: "10/s", "600/m".
	Rate  string `yaml:"rate" json:"rate"`
	Burst int    `yaml:"burst" json:"burst,omitempty"`
	// OnStoreFailure is allow or deny.
	OnStoreFailure string `yaml:"on_store_failure" json:"on_store_failure"`
}

// Delay parameters a delay policy.
type Delay struct {
	// Form is embargo or hold.
	Form string `yaml:"form" json:"form"`
	// ReleaseAfter and From (embargo): resources matching resource_when
	// are held until ReleaseAfter past their date element From.
	ReleaseAfter Duration `yaml:"release_after" json:"release_after,omitempty"`
	From         string   `yaml:"from" json:"from,omitempty"`
	// HoldFor and Release (hold): the request is parked for HoldFor, or
	// until staff release it (release: staff).
	HoldFor Duration `yaml:"hold_for" json:"hold_for,omitempty"`
	Release string   `yaml:"release" json:"release,omitempty"`
}

// Duration is a time.Duration written as "90s", "72h" or "30d".
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := yamlx.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler (Go duration notation).
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// source locates a policy in its file.
type source struct {
	doc  *yamlx.Doc
	path string // e.g. "policies[2]"
}

// problem adds a problem at key (relative to the policy).
func (p *Policy) problem(ps *yamlx.Problems, key, format string, args ...any) {
	path := p.src.path
	if key != "" {
		path += "." + key
	}
	p.src.doc.Add(ps, path, format, args...)
}

// Pos returns the file and line the policy starts at.
func (p *Policy) Pos() (string, int) {
	if p.src.doc == nil {
		return "", 0
	}
	return p.src.doc.File, p.src.doc.Line(p.src.path)
}
