package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/gateway/demo"
)

// TestEveryInteraction drives every FHIR R4 interaction through the
// gateway to a FHIR server loaded with a real Synthea record, and checks
// the answer and the record of each.
func TestEveryInteraction(t *testing.T) {
	up := demo.NewServer(demo.Options{BasePath: "/baseR4", ExportPolls: 1})
	f, err := os.Open(smallestSynthea(t, 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.LoadTransaction(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	hs := newHarness(t, up)
	c := client()
	_, pb := get(t, c, hs.base+"/Patient?_count=1")
	var ps struct {
		Entry []struct {
			Resource struct{ ID string }
		}
	}
	if err := json.Unmarshal(pb, &ps); err != nil || len(ps.Entry) != 1 {
		t.Fatalf("no patient: %s", pb)
	}
	pid := ps.Entry[0].Resource.ID
	pat := `{"resourceType":"Patient","name":[{"family":"Test"}]}`
	obs := `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/` + pid + `"}}`
	txn := `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111","resource":` + obs +
		`,"request":{"method":"POST","url":"Observation"}},{"request":{"method":"GET","url":"Patient/` + pid + `"}}]}`
	batch := strings.Replace(txn, `"transaction"`, `"batch"`, 1)

	type step struct {
		name        string
		method, rel string
		ctype, body string
		header      map[string]string
		status      int
		interaction string
		patients    string // comma list expected in the record ("-" for none)
	}
	steps := []step{
		{"capabilities", "GET", "/metadata", "", "", nil, 200, "capabilities", "-"},
		{"read", "GET", "/Patient/" + pid, "", "", nil, 200, "read", pid},
		{"vread", "GET", "/Patient/" + pid + "/_history/1", "", "", nil, 200, "vread", pid},
		{"search GET", "GET", "/Observation?patient=" + pid + "&_count=5", "", "", nil, 200, "search-type", pid},
		{"search POST", "POST", "/Observation/_search", "application/x-www-form-urlencoded", "subject=Patient/" + pid, nil, 200, "search-type", pid},
		{"compartment", "GET", "/Patient/" + pid + "/Condition", "", "", nil, 200, "search-type", pid},
		{"system search", "GET", "?_type=Patient&_id=" + pid, "", "", nil, 200, "search-system", pid},
		{"everything", "GET", "/Patient/" + pid + "/$everything?_count=50", "", "", nil, 200, "operation", pid},
		{"validate", "POST", "/Patient/$validate", "application/fhir+json", pat, nil, 200, "operation", "-"},
		{"create", "POST", "/Patient", "application/fhir+json", pat, nil, 201, "create", "-"},
		{"conditional create", "POST", "/Observation", "application/fhir+json", obs, map[string]string{"If-None-Exist": "code=x&subject=Patient/" + pid}, 201, "create", pid},
		{"update", "PUT", "/Patient/made-up-1", "application/fhir+json", `{"resourceType":"Patient","id":"made-up-1"}`, nil, 201, "update", "made-up-1"},
		{"patch", "PATCH", "/Patient/made-up-1", "application/json-patch+json", `[{"op":"add","path":"/active","value":true}]`, nil, 200, "patch", "made-up-1"},
		{"history instance", "GET", "/Patient/made-up-1/_history", "", "", nil, 200, "history-instance", "made-up-1"},
		{"history type", "GET", "/Patient/_history?_count=2", "", "", nil, 200, "history-type", "-"},
		{"history system", "GET", "/_history?_count=2", "", "", nil, 200, "history-system", "-"},
		{"transaction", "POST", "", "application/fhir+json", txn, nil, 200, "transaction", pid},
		{"batch", "POST", "", "application/fhir+json", batch, nil, 200, "batch", pid},
		{"delete", "DELETE", "/Patient/made-up-1", "", "", nil, 0, "delete", "made-up-1"},
		{"conditional delete", "DELETE", "/Observation?code=nomatch", "", "", nil, 0, "delete", "-"},
	}
	ids := map[string]step{}
	for _, s := range steps {
		req, _ := http.NewRequest(s.method, hs.base+s.rel, strings.NewReader(s.body))
		if s.ctype != "" {
			req.Header.Set("Content-Type", s.ctype)
		}
		for k, v := range s.header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if (s.status != 0 && resp.StatusCode != s.status) || resp.StatusCode >= 400 {
			t.Errorf("%s: status %d, want %d: %.300s", s.name, resp.StatusCode, s.status, body)
			continue
		}
		if strings.Contains(string(body), hs.upBase) {
			t.Errorf("%s: upstream base leaked into the body", s.name)
		}
		for _, h := range []string{"Location", "Content-Location"} {
			if v := resp.Header.Get(h); v != "" && !strings.HasPrefix(v, hs.base) {
				t.Errorf("%s: %s %q not rewritten", s.name, h, v)
			}
		}
		ids[resp.Header.Get("X-Ehigate-Decision")] = s
	}

	// Bulk Data: kick-off, poll the learned status URL, download a file.
	req, _ := http.NewRequest(http.MethodGet, hs.base+"/Patient/$export", nil)
	req.Header.Set("Prefer", "respond-async")
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	status := resp.Header.Get("Content-Location")
	if resp.StatusCode != 202 || !strings.HasPrefix(status, hs.base+"/") {
		t.Fatalf("kick-off: %d, Content-Location %q", resp.StatusCode, status)
	}
	ids[resp.Header.Get("X-Ehigate-Decision")] = step{name: "export kick-off", interaction: "operation", patients: "-"}
	var manifest struct {
		Output []struct{ Type, URL string }
	}
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("export never completed")
		}
		r, body := get(t, c, status)
		ids[r.Header.Get("X-Ehigate-Decision")] = step{name: "export status", interaction: "bulk-status", patients: "-"}
		if r.StatusCode == 202 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if r.StatusCode != 200 || json.Unmarshal(body, &manifest) != nil || len(manifest.Output) == 0 {
			t.Fatalf("manifest: %d %s", r.StatusCode, body)
		}
		break
	}
	var ndjsonPatients string
	for _, o := range manifest.Output {
		if !strings.HasPrefix(o.URL, hs.base+"/") {
			t.Fatalf("manifest url %q escapes the gateway", o.URL)
		}
		if o.Type != "Patient" {
			continue
		}
		r, body := get(t, c, o.URL)
		if r.StatusCode != 200 || !strings.Contains(string(body), `"resourceType":"Patient"`) {
			t.Fatalf("file download: %d %.200s", r.StatusCode, body)
		}
		ndjsonPatients = pid
		ids[r.Header.Get("X-Ehigate-Decision")] = step{name: "export file", interaction: "bulk-file", patients: "*"}
	}
	if ndjsonPatients == "" {
		t.Fatal("no Patient file in the manifest")
	}

	recs := byID(t, hs.records())
	if len(recs) != len(ids)+1 { // +1: the initial patient lookup
		t.Errorf("%d records for %d requests", len(recs), len(ids)+1)
	}
	for id, s := range ids {
		r, ok := recs[id]
		if !ok {
			t.Errorf("%s: no record", s.name)
			continue
		}
		if r.Interaction != s.interaction {
			t.Errorf("%s: interaction %q, want %q", s.name, r.Interaction, s.interaction)
		}
		got := strings.Join(r.Patients, ",")
		switch {
		case s.patients == "*":
			if got == "" {
				t.Errorf("%s: no patients found in the response", s.name)
			}
		case s.patients == "-":
		case !strings.Contains(","+got+",", ","+s.patients+","):
			t.Errorf("%s: patients %q, want to include %q", s.name, got, s.patients)
		}
		if r.FulfilledAt == nil || r.Status == 0 {
			t.Errorf("%s: incomplete record", s.name)
		}
	}
	_ = fmt.Sprint
}
