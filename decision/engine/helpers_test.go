package engine

import (
	"fmt"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
)

// spec is the interesting part of a test policy; documentation and
// notice are filled in from the catalog.
type spec struct {
	id, action, exception string
	match                 map[string]any
	extra                 map[string]any
	reviewBy              string
}

func (s spec) doc(cat *exceptions.Catalog) map[string]any {
	e, err := cat.Lookup(s.exception)
	if err != nil {
		panic(err)
	}
	conds := map[string]any{}
	for _, f := range e.Fields() {
		switch f.Type {
		case exceptions.FieldDate:
			conds[f.Name] = "2026-01-10"
		case exceptions.FieldEnum:
			conds[f.Name] = f.Values[0]
		case exceptions.FieldList:
			var l []string
			for i := 0; i < max(f.Min, 1); i++ {
				l = append(l, fmt.Sprint("alternative ", i))
			}
			conds[f.Name] = l
		default:
			conds[f.Name] = "documented"
		}
	}
	rb := s.reviewBy
	if rb == "" {
		rb = "2026-12-31"
	}
	p := map[string]any{
		"id": s.id, "version": "1", "description": "test", "action": s.action, "exception": e.Code,
		"match": s.match,
		"documentation": map[string]any{
			"rationale": "r", "decided_by": map[string]any{"name": "n", "role": "r", "credentials": "MD"},
			"decided_at": "2026-01-10", "ehi_scope": "s", "minimum_necessary": "m", "review_by": rb,
			"evidence": []string{"e"}, "conditions": conds,
		},
		"notice": map[string]any{"message": "msg " + s.id, "next_step": "next", "contact": "privacy@example.org"},
	}
	if s.action == "allow" {
		delete(p, "notice")
	}
	if s.match == nil {
		p["match"] = map[string]any{}
	}
	for k, v := range s.extra {
		p[k] = v
	}
	return p
}

func buildSet(t testing.TB, specs ...spec) *policy.Set {
	t.Helper()
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	var ps []map[string]any
	for _, s := range specs {
		ps = append(ps, s.doc(cat))
	}
	b, err := yaml.Marshal(map[string]any{"policies": ps})
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Parse("test.yaml", b, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return set
}
