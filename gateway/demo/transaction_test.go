package demo

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func TestBatch(t *testing.T) {
	_, hs := newTestServer(t, 1, Options{})
	base := hs.URL + "/fhir"
	patch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/active","value":false}]`))
	bundle := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"request":{"method":"GET","url":"Patient/demo-1"}},
	 {"request":{"method":"GET","url":"Observation?patient=demo-1&_count=2"}},
	 {"request":{"method":"GET","url":"Patient/nobody"}},
	 {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Patient","id":"demo-1","active":true},"request":{"method":"PUT","url":"Patient/demo-1","ifMatch":"W/\"9\""}},
	 {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + patch + `"},"request":{"method":"PATCH","url":"Patient/demo-1"}},
	 {"request":{"method":"DELETE","url":"Immunization/demo-1-imm-1"}},
	 {"request":{"method":"GET","url":"Patient/demo-1","ifNoneMatch":"W/\"1\""}},
	 {"request":{"method":"FROB","url":"Patient"}}
	]}`
	r := do(t, http.MethodPost, base, []byte(bundle))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	b := r.json(t)
	if b["type"] != "batch-response" {
		t.Fatalf("type %v", b["type"])
	}
	want := []struct {
		status   string
		resource string
		location bool
	}{
		{"200 OK", "Patient", false},
		{"200 OK", "Bundle", false},
		{"404 Not Found", "", false},
		{"201 Created", "", true},
		{"412 Precondition Failed", "", false},
		{"200 OK", "", true},
		{"204 No Content", "", false},
		{"200 OK", "Patient", false}, // the PATCH made version 2
		{"400 Bad Request", "", false},
	}
	es := entries(t, b)
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d", len(es), len(want))
	}
	for i, w := range want {
		res := es[i]["response"].(map[string]any)
		if res["status"] != w.status {
			t.Errorf("entry %d status %v, want %s", i, res["status"], w.status)
		}
		if got, _ := resourceOf(es[i])["resourceType"].(string); got != w.resource {
			t.Errorf("entry %d resource %q, want %q", i, got, w.resource)
		}
		loc, _ := res["location"].(string)
		if w.location && !strings.HasPrefix(loc, base+"/Patient/") {
			t.Errorf("entry %d location %q is not absolute", i, loc)
		}
		if strings.HasPrefix(w.status, "4") && res["outcome"] == nil {
			t.Errorf("entry %d failed without an outcome", i)
		}
	}
}

func TestTransaction(t *testing.T) {
	tests := []struct {
		name   string
		bundle string
		status int
		check  func(t *testing.T, base string, b map[string]any)
	}{
		{
			name: "urn:uuid references resolved",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[
			 {"fullUrl":"urn:uuid:0b1c6f0e-0000-4000-8000-000000000002","resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"urn:uuid:0b1c6f0e-0000-4000-8000-000000000001"}},"request":{"method":"POST","url":"Observation"}},
			 {"fullUrl":"urn:uuid:0b1c6f0e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","identifier":[{"system":"urn:t","value":"tx1"}]},"request":{"method":"POST","url":"Patient"}},
			 {"resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient?identifier=urn:t|tx1"}},"request":{"method":"POST","url":"Encounter"}},
			 {"request":{"method":"GET","url":"Patient?identifier=urn:t|tx1"}}
			]}`,
			status: 200,
			check: func(t *testing.T, base string, b map[string]any) {
				es := entries(t, b)
				obsLoc := es[0]["response"].(map[string]any)["location"].(string)
				patLoc := es[1]["response"].(map[string]any)["location"].(string)
				if !strings.HasPrefix(patLoc, base+"/Patient/") || !strings.HasPrefix(obsLoc, base+"/Observation/") {
					t.Fatalf("locations %q %q", patLoc, obsLoc)
				}
				patRef := strings.TrimSuffix(strings.TrimPrefix(patLoc, base+"/"), "/_history/1")
				obs := do(t, http.MethodGet, strings.TrimSuffix(obsLoc, "/_history/1"), nil).json(t)
				if got := obs["subject"].(map[string]any)["reference"]; got != patRef {
					t.Errorf("Observation.subject %v, want %s", got, patRef)
				}
				encLoc := es[2]["response"].(map[string]any)["location"].(string)
				enc := do(t, http.MethodGet, strings.TrimSuffix(encLoc, "/_history/1"), nil).json(t)
				if got := enc["subject"].(map[string]any)["reference"]; got != patRef {
					t.Errorf("conditional reference became %v, want %s", got, patRef)
				}
				if search := resourceOf(es[3]); search["total"] != 1.0 {
					t.Errorf("GET after the writes saw %v", search["total"])
				}
				// The new Observation is in the new Patient's compartment.
				page := do(t, http.MethodGet, base+"/"+patRef+"/Observation", nil).json(t)
				if page["total"] != 1.0 {
					t.Errorf("compartment of the new Patient holds %v Observations", page["total"])
				}
			},
		},
		{
			name: "conditional create and update",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[
			 {"fullUrl":"urn:uuid:0b1c6f0e-0000-4000-8000-000000000003","resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=` + sysMRN + `|MRN-100001"}},
			 {"resource":{"resourceType":"Patient","identifier":[{"system":"` + sysMRN + `","value":"MRN-100002"}],"active":false},"request":{"method":"PUT","url":"Patient?identifier=` + sysMRN + `|MRN-100002"}},
			 {"resource":{"resourceType":"Coverage","status":"active","beneficiary":{"reference":"urn:uuid:0b1c6f0e-0000-4000-8000-000000000003"},"payor":[{"reference":"Organization/demo-org-2"}]},"request":{"method":"POST","url":"Coverage"}}
			]}`,
			status: 200,
			check: func(t *testing.T, base string, b map[string]any) {
				es := entries(t, b)
				if loc := es[0]["response"].(map[string]any)["location"]; loc != base+"/Patient/demo-1/_history/1" {
					t.Errorf("conditional create location %v", loc)
				}
				if loc := es[1]["response"].(map[string]any)["location"]; loc != base+"/Patient/demo-2/_history/2" {
					t.Errorf("conditional update location %v", loc)
				}
				cov := do(t, http.MethodGet, base+"/Coverage?patient=demo-1", nil).json(t)
				if cov["total"] != 2.0 {
					t.Errorf("Coverage for demo-1: %v, want the generated and the new one", cov["total"])
				}
			},
		},
		{
			name: "rollback on failed precondition",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[
			 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:t","value":"rolled-back"}]},"request":{"method":"POST","url":"Patient"}},
			 {"request":{"method":"DELETE","url":"Patient/demo-2"}},
			 {"resource":{"resourceType":"Patient","id":"demo-1","active":false},"request":{"method":"PUT","url":"Patient/demo-1","ifMatch":"W/\"5\""}}
			]}`,
			status: 412,
		},
		{
			name: "rollback on bad resource",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[
			 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:t","value":"rolled-back"}]},"request":{"method":"POST","url":"Patient"}},
			 {"resource":{"resourceType":"Condition","id":"bad id!"},"request":{"method":"PUT","url":"Condition/x"}}
			]}`,
			status: 400,
		},
		{
			name: "rollback on unresolvable conditional reference",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[
			 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:t","value":"rolled-back"}]},"request":{"method":"POST","url":"Patient"}},
			 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"Patient?gender=female,male"}},"request":{"method":"POST","url":"Observation"}}
			]}`,
			status: 412,
		},
		{
			name:   "not a transaction",
			bundle: `{"resourceType":"Bundle","type":"collection","entry":[]}`,
			status: 400,
		},
		{
			name:   "bad entry url",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Nonsense"},"resource":{"resourceType":"Patient"}}]}`,
			status: 400,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, hs := newTestServer(t, 2, Options{})
			base := hs.URL + "/fhir"
			s.st.mu.RLock()
			before := len(s.st.history)
			s.st.mu.RUnlock()
			r := do(t, http.MethodPost, base, []byte(tc.bundle))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				if r.json(t)["resourceType"] != "OperationOutcome" {
					t.Fatalf("failure is not an OperationOutcome: %s", r.body)
				}
				s.st.mu.RLock()
				after := len(s.st.history)
				s.st.mu.RUnlock()
				if after != before {
					t.Errorf("history grew from %d to %d: not rolled back", before, after)
				}
				for _, u := range []string{"/Patient?identifier=urn:t|rolled-back", "/Patient?_id=demo-1,demo-2"} {
					b := do(t, http.MethodGet, base+u, nil).json(t)
					want := 0.0
					if strings.Contains(u, "_id") {
						want = 2
					}
					if b["total"] != want {
						t.Errorf("%s: total %v, want %v", u, b["total"], want)
					}
				}
				if v := do(t, http.MethodGet, base+"/Patient/demo-1", nil).header.Get("ETag"); v != `W/"1"` {
					t.Errorf("demo-1 is at %s after rollback", v)
				}
				return
			}
			b := r.json(t)
			if b["type"] != "transaction-response" {
				t.Fatalf("type %v", b["type"])
			}
			tc.check(t, base, b)
		})
	}
}
