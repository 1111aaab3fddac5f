package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/ehigate/ehigate/fhir/fhirdata"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// resTestDataDir returns the shared FHIR test data folder, if present.
func resTestDataDir() (string, bool) { return fhirdata.Lookup() }

// resExampleFiles lists the R4 example files, skipping the test when the
// shared data is absent.
func resExampleFiles(tb testing.TB) []string {
	tb.Helper()
	dir, ok := resTestDataDir()
	if !ok {
		tb.Skip("shared FHIR test data (../shared/fhir-data beside the repository) not found")
	}
	files, err := filepath.Glob(filepath.Join(dir, "r4-examples", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Skip("no R4 examples in the shared FHIR test data")
	}
	return files
}

const obsJSON = `{
  "resourceType": "Observation",
  "id": "obs-1",
  "meta": {
    "versionId": "3",
    "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}],
    "tag": [{"system": "http://example.org/tags", "code": "t1"}]
  },
  "status": "final",
  "subject": {"reference": "Patient/p1"},
  "valueQuantity": {"value": 1.50, "unit": "mg"}
}`

func TestResource(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantErr  bool
		typ, id  string
		version  string
		security []Coding
		tags     []Coding
		get      map[string]string // member -> raw bytes; "" means absent
	}{
		{
			name: "observation", in: obsJSON, typ: "Observation", id: "obs-1", version: "3",
			security: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v3-ActCode", Code: "PSY"}},
			tags:     []Coding{{System: "http://example.org/tags", Code: "t1"}},
			get: map[string]string{
				"status":        `"final"`,
				"subject":       `{"reference": "Patient/p1"}`,
				"valueQuantity": `{"value": 1.50, "unit": "mg"}`,
				"code":          "",
			},
		},
		{name: "no id", in: `{"resourceType":"Patient"}`, typ: "Patient"},
		{name: "numeric id ignored", in: `{"resourceType":"Patient","id":7}`, typ: "Patient"},
		{name: "escaped type and name", in: `{"resource\u0054ype":"Pat\u0069ent","id":"a\/b"}`, typ: "Patient", id: "a/b"},
		{name: "resourceType last", in: `{"id":"x","active":true,"resourceType":"Patient"}`, typ: "Patient", id: "x",
			get: map[string]string{"active": "true"}},
		{name: "duplicate member, last wins", in: `{"resourceType":"Patient","id":"a","id":"b"}`, typ: "Patient", id: "b"},
		{name: "meta not an object", in: `{"resourceType":"Patient","meta":3}`, typ: "Patient"},
		{name: "no resourceType", in: `{"id":"x"}`, wantErr: true},
		{name: "empty resourceType", in: `{"resourceType":""}`, wantErr: true},
		{name: "resourceType not a string", in: `{"resourceType":1}`, wantErr: true},
		{name: "array", in: `[{"resourceType":"Patient"}]`, wantErr: true},
		{name: "malformed", in: `{"resourceType":"Patient",}`, wantErr: true},
		{name: "truncated", in: `{"resourceType":"Patient","name":[{"given":["A"`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewResource([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrNotResource) {
					t.Fatalf("err = %v, want ErrNotResource", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != tc.typ || r.ID != tc.id {
				t.Fatalf("type/id = %q/%q, want %q/%q", r.Type, r.ID, tc.typ, tc.id)
			}
			if r.VersionID() != tc.version {
				t.Errorf("VersionID = %q, want %q", r.VersionID(), tc.version)
			}
			if !slices.Equal(r.Security(), tc.security) {
				t.Errorf("Security = %v, want %v", r.Security(), tc.security)
			}
			if !slices.Equal(r.Tags(), tc.tags) {
				t.Errorf("Tags = %v, want %v", r.Tags(), tc.tags)
			}
			for name, want := range tc.get {
				got, ok := r.Get(name)
				if ok != (want != "") || string(got) != want {
					t.Errorf("Get(%q) = %q, %v; want %q", name, got, ok, want)
				}
			}
			var old map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.in), &old); err != nil {
				t.Fatal(err)
			}
			f, err := r.Fields()
			if err != nil {
				t.Fatal(err)
			}
			if len(f) != len(old) {
				t.Fatalf("Fields has %d members, encoding/json %d", len(f), len(old))
			}
			for k, v := range old {
				if !bytes.Equal(f[k], v) {
					t.Errorf("Fields[%q] = %q, encoding/json %q", k, f[k], v)
				}
			}
		})
	}
}

func TestResourceMemberAndTree(t *testing.T) {
	r, err := NewResource([]byte(obsJSON))
	if err != nil {
		t.Fatal(err)
	}
	var subj struct{ Reference string }
	if !r.Member("subject", &subj) || subj.Reference != "Patient/p1" {
		t.Fatalf("Member(subject) = %+v", subj)
	}
	var n int
	if r.Member("status", &n) {
		t.Fatal("Member decoded a string into an int")
	}
	if r.Member("code", &n) {
		t.Fatal("Member reported an absent member")
	}
	tree, err := r.Tree()
	if err != nil {
		t.Fatal(err)
	}
	v := tree["valueQuantity"].(map[string]any)["value"]
	if num, ok := v.(json.Number); !ok || num.String() != "1.50" {
		t.Fatalf("Tree value = %#v, want json.Number 1.50", v)
	}
}

func TestResourceReset(t *testing.T) {
	var r Resource
	if err := r.Reset([]byte(obsJSON)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fields(); err != nil {
		t.Fatal(err)
	}
	_ = r.Security()
	if _, err := r.Tree(); err != nil {
		t.Fatal(err)
	}
	if err := r.Reset([]byte(`{"resourceType":"Patient","id":"p2"}`)); err != nil {
		t.Fatal(err)
	}
	f, _ := r.Fields()
	if r.Type != "Patient" || r.ID != "p2" || len(f) != 2 || r.Security() != nil || r.VersionID() != "" {
		t.Fatalf("state left over from the previous resource: %+v %v", r, f)
	}
	tree, _ := r.Tree()
	if tree["resourceType"] != "Patient" {
		t.Fatalf("Tree left over: %v", tree)
	}
	if _, ok := r.Get("status"); ok {
		t.Fatal("Get found a member of the previous resource")
	}
	if err := r.Reset([]byte(`{"resourceType":`)); err == nil {
		t.Fatal("Reset accepted malformed JSON")
	}
	if _, ok := r.Get("resourceType"); ok {
		t.Fatal("Get worked on a malformed resource")
	}
	if _, err := r.Fields(); !errors.Is(err, ErrNotResource) {
		t.Fatalf("Fields err = %v", err)
	}
}

// A Resource built as a literal, without Reset, indexes Raw on first use.
func TestResourceLiteral(t *testing.T) {
	r := &Resource{Type: "Observation", Raw: []byte(obsJSON)}
	if v, ok := r.Get("status"); !ok || string(v) != `"final"` {
		t.Fatalf("Get(status) = %q, %v", v, ok)
	}
}

func TestResourceExamples(t *testing.T) {
	for _, path := range resExampleFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			var old map[string]json.RawMessage
			if err := json.Unmarshal(data, &old); err != nil {
				t.Skip("not a JSON object")
			}
			var typ, id string
			_ = json.Unmarshal(old["resourceType"], &typ)
			_ = json.Unmarshal(old["id"], &id)
			r, err := NewResource(data)
			if typ == "" {
				if !errors.Is(err, ErrNotResource) {
					t.Fatalf("err = %v for an object without resourceType", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != typ || r.ID != id {
				t.Fatalf("type/id %q/%q, want %q/%q", r.Type, r.ID, typ, id)
			}
			f, _ := r.Fields()
			if len(f) != len(old) {
				t.Fatalf("%d fields, want %d", len(f), len(old))
			}
			for k, v := range old {
				if !bytes.Equal(f[k], v) {
					t.Fatalf("field %q differs", k)
				}
			}
		})
	}
}

// benchResources returns the R4 examples' bytes and their total size.
func benchResources(b *testing.B) ([][]byte, int64) {
	var out [][]byte
	var n int64
	for _, p := range resExampleFiles(b) {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
		n += int64(len(data))
	}
	return out, n
}

// BenchmarkResourceReset measures Reset plus one member lookup over all R4
// examples, against the former json.Unmarshal into a map.
func BenchmarkResourceReset(b *testing.B) {
	docs, size := benchResources(b)
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		var r Resource
		for b.Loop() {
			for _, d := range docs {
				if r.Reset(d) == nil {
					r.Get("subject")
				}
			}
		}
	})
	b.Run("unmarshal-map", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		m := make(map[string]json.RawMessage, 16)
		for b.Loop() {
			for _, d := range docs {
				clear(m)
				if json.Unmarshal(d, &m) == nil {
					var t, id string
					_ = json.Unmarshal(m["resourceType"], &t)
					_ = json.Unmarshal(m["id"], &id)
					_ = m["subject"]
				}
			}
		}
	})
}
