package fhirdata

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// EnvVar, when set, names the fhir-data folder explicitly.
const EnvVar = "EHIGATE_FHIR_DATA"

// Lookup returns the fhir-data folder: $EHIGATE_FHIR_DATA, or the first
// shared/fhir-data found beside the working directory or one of its
// parents.
func Lookup() (string, bool) {
	if d := os.Getenv(EnvVar); d != "" {
		if isDir(d) {
			return d, true
		}
		return "", false
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if d := filepath.Join(dir, "shared", "fhir-data"); isDir(d) {
			return d, true
		}
		if d := filepath.Join(dir, "..", "shared", "fhir-data"); isDir(d) {
			return filepath.Clean(d), true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Dir returns the fhir-data folder, or skips tb when it is absent.
func Dir(tb testing.TB) string {
	tb.Helper()
	d, ok := Lookup()
	if !ok {
		tb.Skip("shared FHIR test data (shared/fhir-data beside the repository) not found; set " + EnvVar + " to run this test")
	}
	return d
}

// Path returns a path inside the fhir-data folder, skipping tb when the
// folder or the path is absent.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Dir(tb)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared FHIR test data %s not found", filepath.Join(elem...))
	}
	return p
}

// Files returns the non-empty files matching pattern in folder sub
// (e.g. "synthea", "*.json"), sorted; it skips tb when there are none.
func Files(tb testing.TB, sub, pattern string) []string {
	tb.Helper()
	matches, _ := filepath.Glob(filepath.Join(Dir(tb), sub, pattern))
	var out []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		tb.Skipf("no shared FHIR test data matches %s/%s", sub, pattern)
	}
	return out
}

// Synthea returns the Synthea patient Bundles (R4 transactions).
func Synthea(tb testing.TB) []string { return Files(tb, "synthea", "*.json") }

// Examples returns the HL7 R4 example instances.
func Examples(tb testing.TB) []string { return Files(tb, "r4-examples", "*.json") }

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
