package smart

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/fhir"
)

// classify classifies a request as the gateway would: path relative to the
// base, raw query, an optional JSON (or form) body and headers as pairs.
func classify(t *testing.T, method, target, body string, hdr ...string) *fhir.Request {
	t.Helper()
	path, query, _ := strings.Cut(target, "?")
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	c := fhir.NewClassifier(fhir.ClassifierOptions{})
	req, err := c.Classify(method, path, query, h)
	if err != nil {
		t.Fatalf("classify %s %s: %v", method, target, err)
	}
	ct := h.Get("Content-Type")
	if ct == "" && body != "" {
		ct = "application/fhir+json"
	}
	if err := c.ClassifyBody(req, ct, strings.NewReader(body)); err != nil {
		t.Fatalf("classify body of %s %s: %v", method, target, err)
	}
	return req
}

func grant(patient string, scopes string) *Grant {
	return NewGrant(strings.Fields(scopes), patient, "")
}

func TestAuthorize(t *testing.T) {
	pat := grant("p1", "openid fhirUser launch/patient patient/Observation.rs patient/Patient.r patient/Practitioner.rs")
	patAll := grant("p1", "launch/patient patient/*.cruds")
	user := grant("", "openid user/Observation.rs user/Patient.rs")
	sys := grant("", "system/*.rs")
	noPatient := grant("", "patient/Observation.rs")
	labOnly := grant("p1", "patient/Observation.rs?category=laboratory")
	obs := func(p string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/` + p + `"}}`
	}
	bundle := func(typ string, entries ...string) string {
		return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
	}
	get := func(url string) string { return `{"request":{"method":"GET","url":"` + url + `"}}` }
	post := func(typ, res string) string {
		return `{"resource":` + res + `,"request":{"method":"POST","url":"` + typ + `"}}`
	}
	const (
		ok    = Reason("")
		scope = ReasonOutOfScope
		wrong = ReasonWrongPatient
	)
	tests := []struct {
		name   string
		g      *Grant
		method string
		target string
		body   string
		hdr    []string
		reason Reason
		narrow string
		filter bool
		entry  int
		opaque bool
	}{
		{name: "metadata needs no scope", g: grant("", ""), method: "GET", target: "metadata"},
		{name: "smart-configuration needs no scope", g: grant("", ""), method: "GET", target: ".well-known/smart-configuration"},
		{name: "read own Patient", g: pat, method: "GET", target: "Patient/p1", filter: true},
		{name: "read another Patient", g: pat, method: "GET", target: "Patient/p2", reason: wrong},
		{name: "vread another Patient", g: pat, method: "GET", target: "Patient/p2/_history/1", reason: wrong},
		{name: "read Observation by id is checked in the response", g: pat, method: "GET", target: "Observation/o1", filter: true},
		{name: "read type without scope", g: pat, method: "GET", target: "Condition/c1", reason: scope},
		{name: "read with r only cannot search", g: pat, method: "GET", target: "Patient?name=x", reason: scope},
		{name: "search naming own patient", g: pat, method: "GET", target: "Observation?patient=p1&code=x", filter: true},
		{name: "search naming own patient by reference", g: pat, method: "GET", target: "Observation?subject=Patient/p1", filter: true},
		{name: "search naming another patient", g: pat, method: "GET", target: "Observation?patient=p2", reason: wrong},
		{name: "search naming both", g: pat, method: "GET", target: "Observation?patient=p1,p2", reason: wrong},
		{name: "search naming no patient is narrowed", g: pat, method: "GET", target: "Observation?code=x", narrow: "patient=Patient/p1", filter: true},
		{name: "POST _search naming no patient is narrowed", g: pat, method: "POST", target: "Observation/_search", body: "code=x", hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, narrow: "patient=Patient/p1", filter: true},
		{name: "POST _search naming another patient", g: pat, method: "POST", target: "Observation/_search", body: "subject=Patient/p2", hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, reason: wrong},
		{name: "Patient search narrowed by _id", g: patAll, method: "GET", target: "Patient?name=x", narrow: "_id=p1", filter: true},
		{name: "chained search narrowed", g: pat, method: "GET", target: "Observation?subject:Patient.name=x", narrow: "patient=Patient/p1", filter: true},
		{name: "own compartment", g: pat, method: "GET", target: "Patient/p1/Observation", filter: true},
		{name: "another compartment", g: pat, method: "GET", target: "Patient/p2/Observation", reason: wrong},
		{name: "own compartment, every type", g: pat, method: "GET", target: "Patient/p1/*", filter: true},
		{name: "practitioner compartment narrowed", g: pat, method: "GET", target: "Practitioner/d1/Observation", narrow: "patient=Patient/p1", filter: true},
		{name: "non-patient type is filtered only", g: pat, method: "GET", target: "Practitioner?name=x", filter: true},
		{name: "patient-linked type outside the compartment is narrowed", g: patAll, method: "GET", target: "Device?type=x", narrow: "patient=Patient/p1", filter: true},
		{name: "compartment type without patient parameter", g: patAll, method: "GET", target: "Group?name=x", narrow: "member=Patient/p1", filter: true},
		{name: "system search without patient", g: patAll, method: "GET", target: "?_type=Observation", reason: wrong},
		{name: "system search naming own patient", g: patAll, method: "GET", target: "?_type=Observation&patient=p1", filter: true},
		{name: "system search of a type without scope", g: pat, method: "GET", target: "?_type=Condition&patient=p1", reason: scope},
		{name: "type history of a patient type", g: patAll, method: "GET", target: "Observation/_history", reason: wrong},
		{name: "system history", g: patAll, method: "GET", target: "_history", reason: wrong},
		{name: "type history of a non-patient type", g: patAll, method: "GET", target: "Practitioner/_history", filter: true},
		{name: "instance history", g: patAll, method: "GET", target: "Observation/o1/_history", filter: true},
		{name: "create for own patient", g: patAll, method: "POST", target: "Observation", body: obs("p1")},
		{name: "create for another patient", g: patAll, method: "POST", target: "Observation", body: obs("p2"), reason: wrong},
		{name: "create naming no patient", g: patAll, method: "POST", target: "Observation", body: `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`, reason: wrong},
		{name: "create without c", g: pat, method: "POST", target: "Observation", body: obs("p1"), reason: scope},
		{name: "create with an unread body", g: patAll, method: "POST", target: "Observation", body: "<Observation/>", hdr: []string{"Content-Type", "application/fhir+xml"}, reason: wrong},
		{name: "conditional create is narrowed", g: patAll, method: "POST", target: "Observation", body: obs("p1"), hdr: []string{"If-None-Exist", "identifier=x"}, narrow: "patient=Patient/p1"},
		{name: "conditional create criteria naming another patient", g: patAll, method: "POST", target: "Observation", body: obs("p1"), hdr: []string{"If-None-Exist", "patient=p2"}, reason: wrong},
		{name: "update by id cannot be checked", g: patAll, method: "PUT", target: "Observation/o1", body: strings.Replace(obs("p1"), `{`, `{"id":"o1",`, 1), reason: wrong},
		{name: "update own Patient", g: patAll, method: "PUT", target: "Patient/p1", body: `{"resourceType":"Patient","id":"p1"}`},
		{name: "update another Patient", g: patAll, method: "PUT", target: "Patient/p2", body: `{"resourceType":"Patient","id":"p2"}`, reason: wrong},
		{name: "conditional update is narrowed", g: patAll, method: "PUT", target: "Observation?identifier=x", body: obs("p1"), narrow: "patient=Patient/p1"},
		{name: "patch by id cannot be checked", g: patAll, method: "PATCH", target: "Observation/o1", body: `[{"op":"add","path":"/status","value":"final"}]`, hdr: []string{"Content-Type", "application/json-patch+json"}, reason: wrong},
		{name: "delete by id cannot be checked", g: patAll, method: "DELETE", target: "Observation/o1", reason: wrong},
		{name: "conditional delete is narrowed", g: patAll, method: "DELETE", target: "Observation?code=x", narrow: "patient=Patient/p1"},
		{name: "delete of a non-patient type", g: patAll, method: "DELETE", target: "Practitioner/d1"},
		{name: "user scopes reach any patient", g: user, method: "GET", target: "Observation?code=x", filter: true, opaque: true},
		{name: "user scopes read any patient", g: user, method: "GET", target: "Observation/o1", filter: true, opaque: true},
		{name: "constrained user scopes need JSON", g: grant("", "user/Observation.rs?category=laboratory"), method: "GET", target: "Observation/o1", filter: true},
		{name: "user scopes, other type", g: user, method: "GET", target: "Condition?code=x", reason: scope},
		{name: "system */rs is unfiltered", g: sys, method: "GET", target: "Condition?code=x", opaque: true},
		{name: "system */rs cannot write", g: sys, method: "POST", target: "Observation", body: obs("p1"), reason: scope},
		{name: "patient scopes without a launch patient", g: noPatient, method: "GET", target: "Observation?patient=p1", reason: scope},
		{name: "granular scope is checked in the response", g: labOnly, method: "GET", target: "Observation?patient=p1", filter: true},
		{name: "everything of own patient", g: pat, method: "GET", target: "Patient/p1/$everything", filter: true},
		{name: "everything of another patient", g: pat, method: "GET", target: "Patient/p2/$everything", reason: wrong},
		{name: "everything of every patient", g: patAll, method: "GET", target: "Patient/$everything", reason: wrong},
		{name: "everything of every patient, system scopes", g: sys, method: "GET", target: "Patient/$everything"},
		{name: "everything of a Group in patient context", g: patAll, method: "GET", target: "Group/g1/$everything", reason: wrong},
		{name: "everything without any search scope", g: grant("p1", "patient/Patient.r"), method: "GET", target: "Patient/p1/$everything", reason: scope},
		{name: "export with patient scopes", g: patAll, method: "GET", target: "Patient/$export", reason: scope},
		{name: "export with system scopes", g: sys, method: "GET", target: "Group/g1/$export", filter: false},
		{name: "export of a granted type", g: user, method: "GET", target: "$export?_type=Observation,Patient", filter: true},
		{name: "export of a type not granted", g: user, method: "GET", target: "$export?_type=Condition", reason: scope},
		{name: "export of every type with typed scopes", g: user, method: "GET", target: "$export", reason: scope},
		{name: "lastn is narrowed like a search", g: pat, method: "GET", target: "Observation/$lastn?code=x", narrow: "patient=Patient/p1", filter: true},
		{name: "document of a Composition", g: grant("p1", "patient/Composition.r"), method: "GET", target: "Composition/c1/$document", filter: true},
		{name: "validate with create scope", g: grant("", "user/Patient.c"), method: "POST", target: "Patient/$validate", body: `{"resourceType":"Patient"}`},
		{name: "validate without scope", g: grant("", "user/Observation.c"), method: "POST", target: "Patient/$validate", body: `{"resourceType":"Patient"}`, reason: scope},
		{name: "terminology operation", g: pat, method: "GET", target: "ValueSet/$expand?url=x"},
		{name: "terminology operation without scopes", g: grant("", "openid"), method: "GET", target: "ValueSet/$expand?url=x", reason: scope},
		{name: "unknown type-level operation naming no patient", g: patAll, method: "GET", target: "Observation/$stats?code=x", reason: wrong},
		{name: "unknown instance operation", g: pat, method: "GET", target: "Observation/o1/$meta", filter: true},
		{name: "batch of own reads", g: pat, method: "POST", target: "", body: bundle("batch", get("Observation?patient=p1"), get("Patient/p1")), filter: true},
		{name: "batch entry needing narrowing", g: pat, method: "POST", target: "", body: bundle("batch", get("Patient/p1"), get("Observation?code=x")), reason: wrong, entry: 1},
		{name: "batch entry out of scope", g: pat, method: "POST", target: "", body: bundle("batch", get("Condition?patient=p1")), reason: scope, entry: 0},
		{name: "transaction writing for another patient", g: patAll, method: "POST", target: "", body: bundle("transaction", post("Observation", obs("p2"))), reason: wrong, entry: 0},
		{name: "transaction of writes is not filtered", g: patAll, method: "POST", target: "", body: bundle("transaction", post("Observation", obs("p1")))},
		{name: "bulk status with system scopes", g: sys, method: "GET", target: "Patient/$export", filter: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := classify(t, tc.method, tc.target, tc.body, tc.hdr...)
			got := tc.g.Authorize(req)
			if got.Reason != tc.reason {
				t.Fatalf("reason %q (%s), want %q", got.Reason, got.Message, tc.reason)
			}
			if tc.reason != ok {
				if got.Message == "" {
					t.Error("no message")
				}
				if strings.Contains(got.Message, "p2") || strings.Contains(got.Message, "o1") {
					t.Errorf("message names an id: %q", got.Message)
				}
				if tc.entry != got.Entry && (got.Entry != -1 || req.Interaction == fhir.Batch || req.Interaction == fhir.Transaction) {
					t.Errorf("entry %d, want %d", got.Entry, tc.entry)
				}
				return
			}
			if got.Narrow != tc.narrow {
				t.Errorf("narrow %q, want %q", got.Narrow, tc.narrow)
			}
			if got.Filter != tc.filter {
				t.Errorf("filter %v, want %v", got.Filter, tc.filter)
			}
			if got.Opaque != tc.opaque {
				t.Errorf("opaque %v, want %v", got.Opaque, tc.opaque)
			}
		})
	}
}

// TestAuthorizeBulkLinks covers the Bulk Data status and file URLs, which
// the classifier recognises from what the gateway learned.
func TestAuthorizeBulkLinks(t *testing.T) {
	for _, it := range []fhir.Interaction{fhir.BulkStatus, fhir.BulkFile} {
		req := &fhir.Request{Method: "GET", Interaction: it}
		if r := grant("p1", "patient/*.rs").Authorize(req); r.Reason != ReasonOutOfScope {
			t.Errorf("%s with patient scopes: %q", it, r.Reason)
		}
		if r := grant("", "system/Observation.rs").Authorize(req); !r.Allowed() || !r.Filter {
			t.Errorf("%s with system scopes: %+v", it, r)
		}
	}
	if r := grant("", "").Authorize(&fhir.Request{Interaction: fhir.InteractionUnknown}); r.Allowed() {
		t.Error("an unclassified request was allowed")
	}
}
