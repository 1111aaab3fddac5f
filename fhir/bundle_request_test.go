package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// classifyBundleBytes classifies a POST [base] with body b.
func classifyBundleBytes(t testing.TB, c *Classifier, b []byte) (*Request, error) {
	t.Helper()
	req, err := c.Classify("POST", "", "", hdr("Content-Type", "application/fhir+json"))
	if err != nil {
		t.Fatal(err)
	}
	return req, c.ClassifyBody(req, "application/fhir+json", bytes.NewReader(b))
}

type entryWant struct {
	method      string
	it          Interaction
	typ, id     string
	conditional bool
	patients    []string
	op          string
}

func checkEntries(t *testing.T, req *Request, want []entryWant) {
	t.Helper()
	if len(req.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(req.Entries), len(want))
	}
	for i, w := range want {
		e := req.Entries[i]
		r := e.Request
		if e.Index != i || r.Method != w.method || r.Interaction != w.it || r.ResourceType != w.typ || r.ID != w.id ||
			r.Conditional != w.conditional || !sameStrings(r.Patients, w.patients) || r.Operation != w.op {
			t.Errorf("entry %d: got %s %v %s/%s cond=%v patients=%v op=%q, want %+v",
				i, r.Method, r.Interaction, r.ResourceType, r.ID, r.Conditional, r.Patients, r.Operation, w)
		}
		if r.NeedsBody {
			t.Errorf("entry %d needs a body", i)
		}
	}
}

func TestClassifyTransactionExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(classifyDataDir(t), "r4-examples", "Bundle-bundle-transaction.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := classifyBundleBytes(t, NewClassifier(ClassifierOptions{}), b)
	if err != nil {
		t.Fatal(err)
	}
	if req.Interaction != Transaction || req.NeedsBody {
		t.Fatalf("interaction %v needsBody %v", req.Interaction, req.NeedsBody)
	}
	checkEntries(t, req, []entryWant{
		{"POST", Create, "Patient", "", false, nil, ""},
		{"POST", Create, "Patient", "", true, nil, ""},
		{"PUT", Update, "Patient", "123", false, []string{"123"}, ""},
		{"PUT", Update, "Patient", "", true, nil, ""},
		{"PUT", Update, "Patient", "123a", false, []string{"123a"}, ""},
		{"DELETE", Delete, "Patient", "234", false, []string{"234"}, ""},
		{"DELETE", Delete, "Patient", "", true, nil, ""},
		{"POST", Operation, "ValueSet", "", false, nil, "lookup"},
		{"GET", SearchType, "Patient", "", false, nil, ""},
		{"GET", Read, "Patient", "12334", false, []string{"12334"}, ""},
	})
	if want := []string{"123", "12334", "123a", "234"}; !sameStrings(req.Patients, want) {
		t.Errorf("patients %v, want %v", req.Patients, want)
	}
	if !sameStrings(req.DataClasses, patClasses) {
		t.Errorf("classes %v, want %v", req.DataClasses, patClasses)
	}
	if p := req.Entries[1].Request.Param("identifier"); p == nil || p.Values[0] != "http:/example.org/fhir/ids|234234" {
		t.Errorf("ifNoneExist criteria not parsed: %+v", req.Entries[1].Request.Params)
	}
	if req.Entries[0].FullURL != "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a" {
		t.Errorf("fullUrl %q", req.Entries[0].FullURL)
	}
}

func TestClassifyBatchExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(classifyDataDir(t), "r4-examples", "Bundle-bundle-request-medsallergies.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := classifyBundleBytes(t, NewClassifier(ClassifierOptions{}), b)
	if err != nil {
		t.Fatal(err)
	}
	if req.Interaction != Batch {
		t.Fatalf("interaction %v", req.Interaction)
	}
	ex := []string{"example"}
	checkEntries(t, req, []entryWant{
		{"GET", Read, "Patient", "example", false, ex, ""},
		{"GET", SearchType, "MedicationStatement", "", false, ex, ""},
		{"GET", SearchType, "AllergyIntolerance", "", false, ex, ""},
		{"GET", SearchType, "Condition", "", false, ex, ""},
		{"GET", SearchType, "MedicationStatement", "", false, ex, ""},
	})
	if !sameStrings(req.Patients, ex) {
		t.Errorf("patients %v", req.Patients)
	}
	want := []string{DataClassAllergies, DataClassEncounter, DataClassHealthStatus, DataClassMedications, DataClassPatientDemographic, DataClassProblems}
	if !sameStrings(req.DataClasses, want) {
		t.Errorf("classes %v, want %v", req.DataClasses, want)
	}
}

// TestClassifyBundleForwardReference checks that a reference to a Patient
// entry that comes later in the Bundle, and a Bundle whose type follows
// its entries, are classified.
func TestClassifyBundleForwardReference(t *testing.T) {
	body := `{"resourceType":"Bundle","entry":[
		{"fullUrl":"urn:uuid:obs","request":{"method":"POST","url":"Observation"},
		 "resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:pat"},
		  "category":[{"coding":[{"code":"laboratory"}]}]}},
		{"fullUrl":"urn:uuid:enc","request":{"method":"POST","url":"Encounter"},
		 "resource":{"resourceType":"Encounter","subject":{"reference":"urn:uuid:other"}}},
		{"fullUrl":"urn:uuid:pat","request":{"method":"POST","url":"Patient"},
		 "resource":{"resourceType":"Patient","id":"p-1"}},
		{"request":{"method":"PATCH","url":"Observation/o9"},
		 "resource":{"resourceType":"Binary","contentType":"application/json-patch+json",
		  "data":"W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9zdWJqZWN0L3JlZmVyZW5jZSIsInZhbHVlIjoidXJuOnV1aWQ6cGF0In1d"}}
	],"type":"transaction","id":"b1"}`
	req, err := classifyBundleBytes(t, NewClassifier(ClassifierOptions{}), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if req.Interaction != Transaction {
		t.Fatalf("interaction %v", req.Interaction)
	}
	want := [][]string{{"p-1"}, nil, {"p-1"}, {"p-1"}}
	for i, w := range want {
		if got := req.Entries[i].Request.Patients; !sameStrings(got, w) {
			t.Errorf("entry %d patients %v, want %v", i, got, w)
		}
	}
	if got := req.Entries[0].Request.DataClasses; !sameStrings(got, []string{DataClassLaboratory}) {
		t.Errorf("create classes %v", got)
	}
	if !sameStrings(req.Patients, []string{"p-1"}) {
		t.Errorf("patients %v", req.Patients)
	}
}

// TestClassifySyntheaTransactions classifies every synthea Bundle: each is
// a transaction whose patients are exactly its one Patient entry.
func TestClassifySyntheaTransactions(t *testing.T) {
	c := NewClassifier(ClassifierOptions{})
	n := 0
	for _, f := range classifyGlob(t, "synthea", "*.json") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Entry []struct {
				Resource struct{ ResourceType, ID string } `json:"resource"`
			} `json:"entry"`
		}
		if len(b) == 0 || json.Unmarshal(b, &head) != nil {
			continue
		}
		n++
		var patient string
		for _, e := range head.Entry {
			if e.Resource.ResourceType == "Patient" {
				patient = e.Resource.ID
			}
		}
		t.Run(fileBase(f), func(t *testing.T) {
			req, err := classifyBundleBytes(t, c, b)
			if err != nil {
				t.Fatal(err)
			}
			if req.Interaction != Transaction || len(req.Entries) != len(head.Entry) {
				t.Fatalf("interaction %v, %d entries of %d", req.Interaction, len(req.Entries), len(head.Entry))
			}
			if !sameStrings(req.Patients, []string{patient}) {
				t.Errorf("patients %v, want [%s]", req.Patients, patient)
			}
			for i, e := range req.Entries {
				r := e.Request
				if r.Interaction != Create {
					t.Fatalf("entry %d: %v", i, r.Interaction)
				}
				switch r.ResourceType {
				case "Organization", "Practitioner", "Location", "PractitionerRole", "Medication", "Provenance", "Device":
				default:
					if !sameStrings(r.Patients, []string{patient}) {
						t.Errorf("entry %d (%s): patients %v", i, r.ResourceType, r.Patients)
					}
				}
			}
			if !strings.Contains(strings.Join(req.DataClasses, "|"), DataClassPatientDemographic) {
				t.Errorf("classes %v lack demographics", req.DataClasses)
			}
		})
	}
	if n < 30 {
		t.Errorf("only %d synthea Bundles parsed", n)
	}
}

func BenchmarkClassifyTransactionBody(b *testing.B) {
	path := filepath.Join(classifyDataDir(b), "synthea", "Alda_Carter_ee1034c9-cb75-413c-8f36-da7e4268d2b5.json")
	body, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("synthea Bundle not readable: %v", err)
	}
	c := NewClassifier(ClassifierOptions{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, err := c.Classify("POST", "", "", nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.ClassifyBody(req, "application/fhir+json", bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
		if len(req.Patients) != 1 {
			b.Fatal(req.Patients)
		}
	}
}
