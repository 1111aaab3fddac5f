package fhir

import (
	"encoding/json"
	"github.com/ehigate/ehigate/fhir/fhirdata"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// classifyDataDir returns the shared FHIR test data folder, skipping the
// test when there is none.
func classifyDataDir(tb testing.TB) string { return fhirdata.Dir(tb) }

// findDataDir returns the shared FHIR test data folder, if present.
func findDataDir() (string, bool) { return fhirdata.Lookup() }

// classifyReadJSON reads and decodes a JSON file, reporting false for
// files that are empty or do not parse (one shared synthea file is empty).
func classifyReadJSON(tb testing.TB, path string) (map[string]any, []byte, bool) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if len(b) == 0 || json.Unmarshal(b, &m) != nil {
		return nil, nil, false
	}
	return m, b, true
}

// classifyGlob lists files of the shared data folder matching pattern.
func classifyGlob(tb testing.TB, sub, pattern string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(classifyDataDir(tb), sub, pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no %s files in %s", pattern, sub)
	}
	sort.Strings(files)
	return files
}

// sameStrings compares two string lists, nil equal to empty.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// isSortedUnique reports whether ids are sorted with no repeats.
func isSortedUnique(ids []string) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			return false
		}
	}
	return true
}

// fileBase returns a file's name without directory and extension.
func fileBase(p string) string {
	return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
}
