package audit

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"

	"github.com/ehigate/ehigate/decision"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	unmarshallerOnce sync.Once
	unmarshaller     *jsonformat.Unmarshaller
)

// validR4 fails tb unless b is a valid FHIR R4 resource, as google/fhir's
// validating unmarshaller reads it.
func validR4(tb testing.TB, b []byte) {
	tb.Helper()
	unmarshallerOnce.Do(func() {
		u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
		if err != nil {
			panic(err)
		}
		unmarshaller = u
	})
	if _, err := unmarshaller.Unmarshal(b); err != nil {
		tb.Fatalf("not valid R4: %v\n%s", err, b)
	}
}

// golden compares b, indented, with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, b []byte) {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	out.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("%s differs (run go test -update after checking):\n%s", path, out.Bytes())
	}
}

var t0 = time.Date(2026, 12, 3, 14, 5, 6, 123456000, time.UTC)

// record returns a completed record of a patient app reading a resource.
func record(mutate ...func(r *decision.Record)) *decision.Record {
	done := t0.Add(42 * time.Millisecond)
	r := &decision.Record{
		ID: "01JZ8Y3Q7W4M0V5T2K9D6R1C3B", Schema: decision.SchemaV1,
		ReceivedAt: t0, DecidedAt: t0.Add(3 * time.Millisecond), FulfilledAt: &done,
		Action: decision.Allow, Interaction: "read", Method: "GET", Path: "/fhir/Observation/obs-1",
		ResourceType: "Observation", ResourceID: "obs-1", Patients: []string{"pat-1842"},
		DataClasses: []string{"Laboratory"},
		Requester: decision.Requester{
			Subject: "user-77", ClientID: "portal-app", Issuer: "https://idp.example-health.org",
			Class: decision.ClassPatient, Scopes: []string{"patient/*.rs"}, Purpose: []string{"PATRQT"},
			Patient: "pat-1842", FHIRUser: "Patient/pat-1842", TokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Verified: true, Addr: "203.0.113.7",
		},
		Status: 200, UpstreamStatus: 200, BytesOut: 1432, ResourcesReturned: map[string]int{"Observation": 1},
		PolicySet: "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
		TraceID:   "4bf92f3577b34da6a3ce929d0e0e4736",
	}
	for _, m := range mutate {
		m(r)
	}
	return r
}

func builder() *Builder {
	return NewBuilder(Options{Server: "https://ehr.example-health.org/fhir", CFR: func(code string) string {
		if code == "privacy.individual-request" {
			return "45 CFR 171.202(e)"
		}
		return ""
	}})
}
