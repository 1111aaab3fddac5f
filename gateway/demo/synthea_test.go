package demo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// compartmentTypes reads the resource types of the R4 Patient
// CompartmentDefinition (those with at least one parameter).
func compartmentTypes(t *testing.T, data string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "r4-spec", "CompartmentDefinition-patient.json"))
	if err != nil {
		t.Skipf("CompartmentDefinition not found: %v", err)
	}
	var cd struct {
		Resource []struct {
			Code  string
			Param []string
		}
	}
	if err := json.Unmarshal(b, &cd); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range cd.Resource {
		if len(r.Param) > 0 {
			out[r.Code] = true
		}
	}
	return out
}

// TestSyntheaEverything loads every Synthea record into one server and
// checks that Patient/<id>/$everything returns every resource of that
// patient: the ones in its compartment as matches, the Practitioners and
// Organizations its record refers to as includes.
func TestSyntheaEverything(t *testing.T) {
	data := sharedData(t)
	files, _ := filepath.Glob(filepath.Join(data, "synthea", "*.json"))
	if len(files) == 0 {
		t.Skip("no Synthea Bundles in the shared test data")
	}
	inCompartment := compartmentTypes(t, data)
	s := NewServer(Options{BasePath: "/fhir", MaxPageSize: 1000})
	type record struct {
		patient string
		match   map[string]bool
		other   map[string]bool
	}
	var records []record
	loaded := 0
	start := time.Now()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || len(bytes.TrimSpace(b)) == 0 || !json.Valid(b) {
			continue // the shared set has an empty file
		}
		var bundle struct {
			Entry []struct {
				Resource struct {
					ResourceType string
					ID           string
				}
			}
		}
		if err := json.Unmarshal(b, &bundle); err != nil {
			continue
		}
		rec := record{match: map[string]bool{}, other: map[string]bool{}}
		for _, e := range bundle.Entry {
			k := e.Resource.ResourceType + "/" + e.Resource.ID
			switch {
			case e.Resource.ResourceType == "Patient":
				rec.patient = e.Resource.ID
				rec.match[k] = true
			case inCompartment[e.Resource.ResourceType]:
				rec.match[k] = true
			default:
				rec.other[k] = true
			}
		}
		n, err := s.LoadTransaction(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if n != len(bundle.Entry) {
			t.Errorf("%s: loaded %d of %d", filepath.Base(f), n, len(bundle.Entry))
		}
		loaded += n
		records = append(records, rec)
	}
	t.Logf("loaded %d resources from %d Bundles in %v", loaded, len(records), time.Since(start))
	if loaded < 10000 {
		t.Errorf("only %d resources loaded; the store should hold 10k+", loaded)
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	for _, rec := range records {
		t.Run(rec.patient, func(t *testing.T) {
			es, total, _ := walkPages(t, hs, hs.URL+"/fhir/Patient/"+rec.patient+"/$everything?_count=500")
			if int(total) != len(es) {
				t.Errorf("total %v, %d entries", total, len(es))
			}
			got := map[string]string{}
			for _, e := range es {
				got[ids([]map[string]any{e})[0]] = e["search"].(map[string]any)["mode"].(string)
			}
			for k := range rec.match {
				if got[k] != "match" {
					t.Errorf("%s: mode %q, want match", k, got[k])
				}
			}
			for k := range rec.other {
				if got[k] != "include" {
					t.Errorf("%s: mode %q, want include", k, got[k])
				}
			}
			for k, mode := range got {
				if mode == "match" && !rec.match[k] {
					t.Errorf("%s is another patient's", k)
				}
			}
		})
	}
	// The record of one patient is also reachable by a compartment search.
	r := do(t, http.MethodGet, hs.URL+"/fhir/Patient/"+records[0].patient+"/*?_summary=count", nil)
	if r.json(t)["total"] != float64(len(records[0].match)) {
		t.Errorf("compartment search total %v, want %d", r.json(t)["total"], len(records[0].match))
	}
}
