package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// checkMatch checks and normalizes the match criteria and compiles the
// conditions.
func (c *checker) checkMatch(p *Policy) {
	ps := &c.ps
	m := &p.Match
	r := &m.Requester
	r.Class = c.setOf(p, "match.requester.class", r.Class, func(s string) string {
		if !decision.Class(s).Valid() {
			return fmt.Sprintf("unknown requester class %q (want one of %s)", s, classNames())
		}
		return ""
	})
	r.NotClass = c.setOf(p, "match.requester.not_class", r.NotClass, func(s string) string {
		if !decision.Class(s).Valid() {
			return fmt.Sprintf("unknown requester class %q (want one of %s)", s, classNames())
		}
		return ""
	})
	r.ClientID = c.setOf(p, "match.requester.client_id", r.ClientID, nil)
	r.Issuer = c.setOf(p, "match.requester.issuer", r.Issuer, nil)
	r.Subject = c.setOf(p, "match.requester.subject", r.Subject, nil)
	r.Scopes = c.setOf(p, "match.requester.scopes", r.Scopes, nil)
	m.Interactions = c.setOf(p, "match.interactions", m.Interactions, func(s string) string {
		if i, ok := fhir.ParseInteraction(s); !ok || i == fhir.InteractionUnknown {
			return fmt.Sprintf("unknown interaction %q (want one of %s)", s, strings.Join(fhir.Interactions(), ", "))
		}
		return ""
	})
	m.ResourceTypes = c.setOf(p, "match.resource_types", m.ResourceTypes, func(s string) string {
		if !fhir.IsResourceType(s) {
			return fmt.Sprintf("unknown R4 resource type %q", s)
		}
		return ""
	})
	classes := fhir.DataClassNames()
	m.DataClasses = c.setOf(p, "match.data_classes", m.DataClasses, func(s string) string {
		if !slices.Contains(classes, s) {
			return fmt.Sprintf("unknown USCDI data class %q (want one of %s)", s, strings.Join(classes, ", "))
		}
		return ""
	})
	var labels []fhir.Coding
	m.SecurityLabels = c.setOf(p, "match.security_labels", m.SecurityLabels, func(s string) string {
		l, ok := parseLabel(s)
		if !ok {
			return fmt.Sprintf("want system|code, e.g. %s|42CFRPart2, got %q", SystemActUSPrivacyLaw, s)
		}
		labels = append(labels, l)
		return ""
	})
	p.labels = labelSet(labels)
	m.Patients = c.setOf(p, "match.patients", m.Patients, func(s string) string {
		if !fhir.ValidID(s) {
			return fmt.Sprintf("not a valid Patient id: %q", s)
		}
		return ""
	})
	p.window = p.compileWindow(ps, m.Window, "match.window")
	if m.Window != nil {
		if m.Window.From != nil {
			t := m.Window.From.UTC()
			m.Window.From = &t
		}
		if m.Window.To != nil {
			t := m.Window.To.UTC()
			m.Window.To = &t
		}
	}
	var err error
	if m.When != "" {
		if p.when, err = compile(c.envs.request, m.When, false); err != nil {
			p.problem(ps, "match.when", "CEL: %v", err)
		}
	}
	if m.ResourceWhen != "" {
		if p.resWhen, err = compile(c.envs.resource, m.ResourceWhen, true); err != nil {
			p.problem(ps, "match.resource_when", "CEL: %v", err)
		}
	}
	c.checkScope(p)
}

// checkScope checks which criteria an action can use: per-resource
// criteria need redact (or a delay embargo).
func (c *checker) checkScope(p *Policy) {
	ps := &c.ps
	m := &p.Match
	perResourceOnly := map[string]bool{"security_labels": len(m.SecurityLabels) > 0, "resource_when": m.ResourceWhen != ""}
	if p.PerResource() {
		if len(m.ResourceTypes)+len(m.DataClasses)+len(m.Patients)+len(m.SecurityLabels) == 0 && m.ResourceWhen == "" && p.Action == decision.Redact {
			p.problem(ps, "match", "a redact policy needs per-resource criteria (resource_types, data_classes, patients, security_labels or resource_when); to refuse whole requests use action deny")
		}
		return
	}
	for _, k := range []string{"security_labels", "resource_when"} {
		if !perResourceOnly[k] {
			continue
		}
		switch p.Action {
		case decision.Allow:
			p.problem(ps, "match."+k, "is checked per resource, which an allow policy cannot act on")
		default:
			p.problem(ps, "match."+k, "is checked per resource, but %s acts on the whole request: use action redact to withhold the matching resources", p.Action)
		}
	}
}

// setOf checks each item of a set-valued list with valid (which returns a
// message or ""), then returns it sorted without duplicates.
func (c *checker) setOf(p *Policy, key string, items []string, valid func(string) string) []string {
	for i, s := range items {
		k := fmt.Sprintf("%s[%d]", key, i)
		if strings.TrimSpace(s) == "" {
			p.problem(&c.ps, k, "must not be empty")
			continue
		}
		if valid != nil {
			if msg := valid(s); msg != "" {
				p.problem(&c.ps, k, "%s", msg)
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	out := slices.Clone(items)
	slices.Sort(out)
	return slices.Compact(out)
}

func classNames() string {
	names := make([]string, len(decision.Classes))
	for i, c := range decision.Classes {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
