package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkClassified asserts the invariants of any classification result:
// errors are *ClassifyError with a status, and patients (of the request and
// of each entry) are sorted, unique and valid ids.
func checkClassified(t *testing.T, req *Request, err error) {
	t.Helper()
	if err != nil {
		var ce *ClassifyError
		if !errors.As(err, &ce) || ce.Status < 400 || ce.Code == "" || !strings.HasPrefix(ce.Msg, "fhir: ") {
			t.Fatalf("error %#v is not a complete *ClassifyError", err)
		}
		return
	}
	checkPatients := func(ids []string) {
		if !isSortedUnique(ids) {
			t.Fatalf("patients %q not sorted and unique", ids)
		}
		for _, id := range ids {
			if !ValidID(id) {
				t.Fatalf("patient id %q is not valid", id)
			}
		}
	}
	checkPatients(req.Patients)
	if !isSortedUnique(req.DataClasses) {
		t.Fatalf("classes %q not sorted and unique", req.DataClasses)
	}
	for _, e := range req.Entries {
		checkPatients(e.Request.Patients)
	}
	if req.ID != "" && !ValidID(req.ID) || req.VersionID != "" && !ValidID(req.VersionID) {
		t.Fatalf("invalid id %q or version %q", req.ID, req.VersionID)
	}
}

// fuzzURLSeeds returns request paths (and queries) met in the R4 examples:
// file names as Type/id, and the request URLs and links of the Bundles.
func fuzzURLSeeds() []string {
	var seeds []string
	dir, ok := findDataDir()
	if !ok {
		return nil // no shared data: the built-in seeds remain
	}
	files, _ := filepath.Glob(filepath.Join(dir, "r4-examples", "*.json"))
	for _, f := range files {
		if typ, id, ok := strings.Cut(fileBase(f), "-"); ok {
			seeds = append(seeds, typ+"/"+id)
		}
		if !strings.HasPrefix(filepath.Base(f), "Bundle-") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var bundle struct {
			Link  []struct{ URL string } `json:"link"`
			Entry []struct {
				Request struct{ URL string } `json:"request"`
			} `json:"entry"`
		}
		if json.Unmarshal(b, &bundle) != nil {
			continue
		}
		for _, l := range bundle.Link {
			if i := strings.Index(l.URL, "/fhir/"); i >= 0 {
				seeds = append(seeds, l.URL[i+len("/fhir/"):])
			}
		}
		for _, e := range bundle.Entry {
			if e.Request.URL != "" {
				seeds = append(seeds, strings.TrimPrefix(e.Request.URL, "/"))
			}
		}
	}
	return seeds
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"", "metadata", ".well-known/smart-configuration", "Patient/1", "Patient/1/_history/2",
		"Patient/1/$everything", "Patient/1/*", "Patient/1/Observation/_search", "$export",
		"Observation/_search", "Patient/%2E%2E", "Patient%2F1", "_history", "Group/1/$export",
		"Patient/1/_history/2/$meta", "Observation?patient=1&category=laboratory",
		"Patient?_id=1,2&_has:Observation:patient:code=1", "Observation?subject:Patient.name=x",
	} {
		path, q, _ := strings.Cut(s, "?")
		f.Add("GET", path, q)
	}
	f.Add("POST", "", "")
	f.Add("PUT", "Observation", "patient=Patient/1")
	f.Add("DELETE", "Patient/1", "")
	f.Add("PATCH", "Observation/1", "_format=json")
	for _, s := range fuzzURLSeeds() {
		path, q, _ := strings.Cut(s, "?")
		f.Add("GET", path, q)
	}
	c := NewClassifier(ClassifierOptions{BulkLookup: func(p string) (Interaction, bool) {
		return BulkStatus, p == "bulk/status"
	}})
	h := hdr("Accept", "application/fhir+json", "Prefer", "respond-async", "If-None-Exist", "identifier=1")
	f.Fuzz(func(t *testing.T, method, path, query string) {
		req, err := c.Classify(method, path, query, h)
		checkClassified(t, req, err)
		if err != nil {
			return
		}
		if req.Interaction == InteractionUnknown && !req.NeedsBody {
			t.Fatalf("unknown interaction without a pending body for %s %q", method, path)
		}
		if req.Compartment.Type != "" && !ValidID(req.Compartment.ID) {
			t.Fatalf("compartment %+v", req.Compartment)
		}
		if req.ResourceType != "" && req.ResourceType != "*" && !IsResourceType(req.ResourceType) {
			t.Fatalf("resource type %q", req.ResourceType)
		}
	})
}

func FuzzClassifyBody(f *testing.F) {
	const fj = "application/fhir+json"
	f.Add("POST", "", fj, []byte(`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/1"}}]}`))
	f.Add("POST", "", fj, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:p","request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","id":"p1"}},{"request":{"method":"POST","url":"Observation"},"resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:p"}}}]}`))
	f.Add("PUT", "Patient/1", fj, []byte(`{"resourceType":"Patient","id":"1","link":[{"other":{"reference":"Patient/2"}}]}`))
	f.Add("POST", "Observation", fj, []byte(`{"resourceType":"Observation","subject":{"reference":"Patient/3"}}`))
	f.Add("PATCH", "Observation/1", "application/json-patch+json", []byte(`[{"op":"replace","path":"/subject/reference","value":"Patient/8"}]`))
	f.Add("POST", "Observation/_search", "application/x-www-form-urlencoded", []byte("patient=1&code=a,b"))
	f.Add("POST", "$export", fj, []byte(`{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/1"}}]}`))
	if dir, ok := findDataDir(); ok {
		for _, name := range []string{"Bundle-bundle-transaction.json", "Bundle-bundle-request-medsallergies.json", "Bundle-bundle-references.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, "r4-examples", name)); err == nil {
				f.Add("POST", "", fj, b)
			}
		}
		for _, name := range []string{"Observation-example.json", "Patient-example.json", "AuditEvent-example.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, "r4-examples", name)); err == nil {
				typ, _, _ := strings.Cut(name, "-")
				f.Add("POST", typ, fj, b)
			}
		}
	}
	c := NewClassifier(ClassifierOptions{MaxBodyBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, method, path, ct string, body []byte) {
		req, err := c.Classify(method, path, "", hdr("Content-Type", ct))
		if err != nil {
			return
		}
		err = c.ClassifyBody(req, ct, bytes.NewReader(body))
		checkClassified(t, req, err)
		if err == nil && req.NeedsBody {
			t.Fatal("NeedsBody still set after ClassifyBody")
		}
		if err == nil && req.Method == "POST" && path == "" && req.Interaction != Batch && req.Interaction != Transaction {
			t.Fatalf("POST [base] classified as %v", req.Interaction)
		}
	})
}
