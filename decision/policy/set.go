package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
)

// DefaultMaxReviewInterval is how far review_by may lie past the latest
// review or decision unless configured otherwise.
const DefaultMaxReviewInterval = 365 * 24 * time.Hour

// Options configure loading.
type Options struct {
	// Catalog is the exception catalog policies are checked against.
	Catalog *exceptions.Catalog
	// MaxReviewInterval bounds review_by (default 365 days).
	MaxReviewInterval time.Duration
}

// Set is a loaded, validated set of policies. It is immutable.
type Set struct {
	policies []*Policy
	byID     map[string]*Policy
	hash     string
	catalog  *exceptions.Catalog
	source   string
	// Warnings are things to review that do not stop the set loading
	// (e.g. a policy citing an exception a proposed rule would remove).
	Warnings yamlx.Problems
}

// Empty returns a set with no policies.
func Empty(cat *exceptions.Catalog) *Set {
	return &Set{byID: map[string]*Policy{}, catalog: cat, hash: setHash(cat.Version(), nil)}
}

// Load reads policy files and folders of them (*.yaml and *.yml, in name
// order) and validates every policy. The error, if any, is a
// yamlx.Problems listing every problem.
func Load(paths []string, opts Options) (*Set, error) {
	var files []string
	var ps yamlx.Problems
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			ps.Add(p, 0, "", "%v", unwrap(err))
			continue
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			ps.Add(p, 0, "", "%v", unwrap(err))
			continue
		}
		for _, e := range ents {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
	}
	srcs := make(map[string][]byte, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			ps.Add(f, 0, "", "%v", unwrap(err))
			continue
		}
		srcs[f] = b
	}
	s, err := build(files, srcs, opts)
	if len(ps) > 0 {
		var more yamlx.Problems
		if errors.As(err, &more) {
			ps = append(ps, more...)
		}
		return nil, ps.Err()
	}
	if s != nil {
		s.source = strings.Join(paths, ",")
	}
	return s, err
}

// Parse validates the policies of one file's contents.
func Parse(file string, data []byte, opts Options) (*Set, error) {
	return build([]string{file}, map[string][]byte{file: data}, opts)
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func build(files []string, srcs map[string][]byte, opts Options) (*Set, error) {
	if opts.Catalog == nil {
		return nil, errors.New("policy: a catalog is required")
	}
	if opts.MaxReviewInterval == 0 {
		opts.MaxReviewInterval = DefaultMaxReviewInterval
	}
	envs, err := newCELEnvs()
	if err != nil {
		return nil, err
	}
	c := &checker{cat: opts.Catalog, envs: envs, maxInterval: opts.MaxReviewInterval}
	var all []*Policy
	for _, f := range files {
		data, ok := srcs[f]
		if !ok {
			continue
		}
		all = append(all, c.parseFile(f, data)...)
	}
	s := &Set{byID: map[string]*Policy{}, catalog: opts.Catalog}
	for _, p := range all {
		if prev, dup := s.byID[p.ID]; dup && p.ID != "" {
			file, line := prev.Pos()
			p.problem(&c.ps, "id", "duplicate policy id %q (also at %s:%d)", p.ID, file, line)
			continue
		}
		s.byID[p.ID] = p
		s.policies = append(s.policies, p)
	}
	if err := c.ps.Err(); err != nil {
		return nil, err
	}
	for _, p := range s.policies {
		if err := p.canonicalize(); err != nil {
			return nil, err
		}
	}
	s.hash = setHash(opts.Catalog.Version(), s.policies)
	c.warnings.Sort()
	s.Warnings = c.warnings
	return s, nil
}

// parseFile decodes one policy file and checks its policies.
func (c *checker) parseFile(file string, data []byte) []*Policy {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// Let yamlx report the syntax error with its line.
		_, ps := yamlx.Decode(file, data, &File{})
		c.ps = append(c.ps, ps...)
		return nil
	}
	var f File
	doc, ps := yamlx.Decode(file, data, &f)
	c.ps = append(c.ps, ps...)
	if len(root.Content) == 0 {
		return nil
	}
	if !doc.Has("policies") {
		doc.Add(&c.ps, "policies", "is required: a policy file holds a top-level policies list")
	}
	for i, p := range f.Policies {
		if p == nil {
			doc.Add(&c.ps, fmt.Sprintf("policies[%d]", i), "is empty")
			continue
		}
		p.src = source{doc: doc, path: fmt.Sprintf("policies[%d]", i)}
		c.check(p)
	}
	return slices.DeleteFunc(f.Policies, func(p *Policy) bool { return p == nil })
}

// Policies returns the policies in load order (files in the order given,
// folders in name order, then list order). It must not be modified.
func (s *Set) Policies() []*Policy { return s.policies }

// Lookup returns the policy with id, or nil.
func (s *Set) Lookup(id string) *Policy { return s.byID[id] }

// Hash returns the set's hash (hex SHA-256).
func (s *Set) Hash() string { return s.hash }

// Catalog returns the catalog the set was validated against.
func (s *Set) Catalog() *exceptions.Catalog { return s.catalog }

// Source names where the set was loaded from.
func (s *Set) Source() string { return s.source }

// Refs returns every policy's reference, in load order.
func (s *Set) Refs() []decision.PolicyRef {
	refs := make([]decision.PolicyRef, len(s.policies))
	for i, p := range s.policies {
		refs[i] = p.Ref()
	}
	return refs
}

// Entry returns the journal payload recording the set taking effect at
// at, with every policy's canonical text. Its record id is
// RecordID(s.Hash()).
func (s *Set) Entry(id string, at time.Time) decision.PolicySet {
	e := decision.PolicySet{
		ID: id, At: at.UTC(), Hash: s.hash, Policies: s.Refs(), Source: s.source,
		CatalogVersion: s.catalog.Version(),
	}
	for _, p := range s.policies {
		e.Texts = append(e.Texts, decision.PolicyText{ID: p.ID, Version: p.Version, SHA256: p.sha, Text: json.RawMessage(p.canonical)})
	}
	return e
}

// RecordID returns the journal record id of a policy-set entry.
func RecordID(hash string) string { return "policyset:" + hash }

// LatestRecordID is the journal record id of the pointer entries that
// record which set took effect, newest last.
const LatestRecordID = "policyset:latest"
