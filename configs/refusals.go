package configs

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/fhir"
)

// UpstreamRefusal documents a refusal the upstream EHR makes on its own
// (a status, or an OperationOutcome withholding results), with the same
// exception and documentation a policy needs. A refusal no entry documents
// is flagged undocumented in its record.
type UpstreamRefusal struct {
	ID          string       `yaml:"id"`
	Version     string       `yaml:"version"`
	Description string       `yaml:"description"`
	Match       RefusalMatch `yaml:"match"`
	// Exception is the catalog code the upstream's behaviour relies on.
	Exception     string               `yaml:"exception"`
	Documentation policy.Documentation `yaml:"documentation"`
	Reviews       []policy.Review      `yaml:"reviews"`
}

// RefusalMatch says which upstream refusals an entry documents; every
// criterion given must hold, a list when any of its items does.
type RefusalMatch struct {
	// Status are upstream HTTP statuses (401, 403, 429, 451, 503, ...).
	Status []int `yaml:"status"`
	// IssueCodes are OperationOutcome issue codes (suppressed, forbidden,
	// throttled, ...) in the upstream's answer.
	IssueCodes []string `yaml:"issue_codes"`
	// Interactions and ResourceTypes are the request's.
	Interactions  []string `yaml:"interactions"`
	ResourceTypes []string `yaml:"resource_types"`
}

// issueTypes are the R4 issue-type codes (http://hl7.org/fhir/issue-type).
var issueTypes = []string{
	"invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired", "forbidden",
	"suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found", "deleted", "too-long",
	"code-invalid", "extension", "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
	"exception", "timeout", "incomplete", "throttled", "informational",
}

// refusalFile is the name the synthetic policy file of the refusals is
// validated under; problems are moved back to the configuration.
const refusalFile = "upstream_refusals"

// RefusalPolicies validates the upstream_refusals entries as policies
// (exception, documentation, reviews: the policy rules) and returns them as
// a policy set, whose references and review dates records use. Problems
// name the configuration file's lines.
func (c *Config) RefusalPolicies(cat *exceptions.Catalog) (*policy.Set, error) {
	if len(c.UpstreamRefusals) == 0 {
		return policy.Empty(cat), nil
	}
	var docs []map[string]any
	for _, r := range c.UpstreamRefusals {
		match := map[string]any{}
		if len(r.Match.Interactions) > 0 {
			match["interactions"] = r.Match.Interactions
		}
		if len(r.Match.ResourceTypes) > 0 {
			match["resource_types"] = r.Match.ResourceTypes
		}
		d := map[string]any{
			"id": r.ID, "version": r.Version, "description": r.Description, "action": "deny", "exception": r.Exception,
			"match": match, "documentation": r.Documentation,
			"notice": map[string]any{"message": "The health record system refuses such requests on its own: " + r.Description,
				"next_step": "The health record system's answer applies.", "contact": "the organization"},
		}
		if len(r.Reviews) > 0 {
			d["reviews"] = r.Reviews
		}
		docs = append(docs, d)
	}
	b, err := yaml.Marshal(map[string]any{"policies": docs})
	if err != nil {
		return nil, fmt.Errorf("configs: upstream_refusals: %w", err)
	}
	set, err := policy.Parse(refusalFile, b, policy.Options{Catalog: cat, MaxReviewInterval: c.PolicyReview.MaxInterval})
	var ps yamlx.Problems
	if errors.As(err, &ps) {
		return nil, c.moveProblems(ps).Err()
	}
	return set, err
}

// moveProblems points problems of the synthetic policy file at the
// configuration's upstream_refusals entries.
func (c *Config) moveProblems(ps yamlx.Problems) yamlx.Problems {
	var out yamlx.Problems
	for _, p := range ps {
		path := p.Path
		if rest, ok := strings.CutPrefix(path, "policies"); ok {
			path = "upstream_refusals" + rest
		}
		msg := strings.ReplaceAll(p.Msg, "policy", "entry")
		c.Doc.Add(&out, path, "%s", msg)
	}
	return out
}

func (c *Config) validateRefusals() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	for i, r := range c.UpstreamRefusals {
		k := pathIndex("upstream_refusals", i)
		m := r.Match
		if len(m.Status) == 0 && len(m.IssueCodes) == 0 {
			add(k+".match", "needs status or issue_codes: which refusals of the upstream the entry documents")
		}
		for j, s := range m.Status {
			if s < 400 || s > 599 {
				add(pathIndex(k+".match.status", j), "want an HTTP error status (400 to 599), got %d", s)
			}
		}
		for j, code := range m.IssueCodes {
			if !slices.Contains(issueTypes, code) {
				add(pathIndex(k+".match.issue_codes", j), "not an R4 issue type: %q (e.g. suppressed, forbidden, throttled)", code)
			}
		}
		for j, t := range m.ResourceTypes {
			if !fhir.IsResourceType(t) {
				add(pathIndex(k+".match.resource_types", j), "not an R4 resource type: %q", t)
			}
		}
	}
	if len(c.UpstreamRefusals) > 0 && len(ps) == 0 {
		cat, err := exceptions.Load()
		if err != nil {
			add("upstream_refusals", "%v", err)
			return ps
		}
		if _, err := c.RefusalPolicies(cat); err != nil {
			var more yamlx.Problems
			if errors.As(err, &more) {
				ps = append(ps, more...)
			} else {
				add("upstream_refusals", "%v", err)
			}
		}
	}
	return ps
}
