package stream

import (
	"bytes"
	"encoding/json"
	"github.com/ehigate/ehigate/fhir/fhirdata"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// dataDir returns the shared FHIR test data folder, if present.
func dataDir() (string, bool) { return fhirdata.Lookup() }

// testFile is one JSON file of the shared data.
type testFile struct {
	name string
	data []byte
}

// loadFiles reads the files of a shared-data folder matching pattern that
// parse as JSON, skipping the test when the data is absent.
func loadFiles(tb testing.TB, folder, pattern string) []testFile {
	tb.Helper()
	dir, ok := dataDir()
	if !ok {
		tb.Skip("shared FHIR test data (../shared/fhir-data beside the repository) not found")
	}
	paths, err := filepath.Glob(filepath.Join(dir, folder, pattern))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(paths)
	var out []testFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if !json.Valid(data) {
			continue // e.g. the one empty synthea file
		}
		out = append(out, testFile{name: filepath.Base(p), data: data})
	}
	if len(out) == 0 {
		tb.Skipf("no %s/%s in the shared FHIR test data", folder, pattern)
	}
	return out
}

// r4Bundles are the R4 example Bundles.
func r4Bundles(tb testing.TB) []testFile { return loadFiles(tb, "r4-examples", "Bundle-*.json") }

// syntheaBundles are the Synthea patient Bundles.
func syntheaBundles(tb testing.TB) []testFile { return loadFiles(tb, "synthea", "*.json") }

// ndjsonOf makes an NDJSON body of a Bundle's entry resources, one compact
// resource per line.
func ndjsonOf(tb testing.TB, bundle []byte) []byte {
	tb.Helper()
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	for _, e := range b.Entry {
		if len(e.Resource) == 0 {
			continue
		}
		if err := json.Compact(&out, e.Resource); err != nil {
			tb.Fatal(err)
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}
