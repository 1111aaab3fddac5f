package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary policy files to the loader: it must report
// problems, never panic, and a file that loads must have hashes.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "configs", "policies", "*.yaml"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("policies:\n  - id: a\n    version: '1'\n    description: d\n    action: allow\n"))
	f.Add([]byte("policies: [{id: x, action: deny, match: {when: 'request.id == 1'}}]"))
	cat := catalog(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse("fuzz.yaml", b, Options{Catalog: cat})
		if err != nil {
			return
		}
		for _, p := range s.Policies() {
			if len(p.SHA256()) != 64 || len(p.Canonical()) == 0 {
				t.Fatalf("policy %s loaded without a hash", p.ID)
			}
		}
		if len(s.Hash()) != 64 {
			t.Fatal("set without a hash")
		}
	})
}
