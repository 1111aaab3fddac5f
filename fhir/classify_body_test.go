package fhir

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestClassifyBody(t *testing.T) {
	c := NewClassifier(ClassifierOptions{})
	const fj = "application/fhir+json"
	for _, tc := range []struct {
		name, method, path, query, ct, body string
		patients, classes                   []string
		opaque                              bool
		check                               func(t *testing.T, r *Request)
	}{
		{name: "update patient", method: "PUT", path: "Patient/1", ct: fj,
			body:     `{"resourceType":"Patient","id":"1","link":[{"other":{"reference":"Patient/2"},"type":"seealso"}]}`,
			patients: []string{"1", "2"}, classes: patClasses},
		{name: "conditional update", method: "PUT", path: "Observation", query: "identifier=x", ct: fj,
			body:     `{"resourceType":"Observation","subject":{"reference":"Patient/3"}}`,
			patients: []string{"3"}, classes: obsClasses},
		{name: "create narrows classes", method: "POST", path: "Observation", ct: fj,
			body: `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
				"subject":{"reference":"Patient/3"},"performer":[{"reference":"Practitioner/1"},{"reference":"http://x/fhir/Patient/4"}]}`,
			patients: []string{"3", "4"}, classes: []string{DataClassVitalSigns}},
		{name: "create without content type sniffs JSON", method: "POST", path: "Condition",
			body:     ` {"resourceType":"Condition","subject":{"reference":"Patient/c1"}}`,
			patients: []string{"c1"}, classes: []string{DataClassEncounter, DataClassHealthStatus, DataClassProblems}},
		{name: "create group subject", method: "POST", path: "Observation", ct: fj,
			body: `{"resourceType":"Observation","subject":{"reference":"Group/1"}}`, classes: obsClasses},
		{name: "xml body is opaque", method: "POST", path: "Observation", ct: "application/fhir+xml",
			body: `<Observation xmlns="http://hl7.org/fhir"/>`, classes: obsClasses, opaque: true},
		{name: "json patch value object", method: "PATCH", path: "Observation/o1", ct: "application/json-patch+json",
			body:     `[{"op":"replace","path":"/subject","value":{"reference":"Patient/9"}}]`,
			patients: []string{"9"}, classes: obsClasses},
		{name: "json patch value string", method: "PATCH", path: "Observation/o1", ct: "application/json-patch+json",
			body:     `[{"op":"replace","path":"/subject/reference","value":"Patient/8"},{"op":"remove","path":"/note"}]`,
			patients: []string{"8"}, classes: obsClasses},
		{name: "fhirpath patch", method: "PATCH", path: "Patient/1", ct: fj,
			body: `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"add"},
				{"name":"path","valueString":"Patient"},{"name":"name","valueString":"link"},
				{"name":"value","part":[{"name":"other","valueReference":{"reference":"Patient/7"}}]}]}]}`,
			patients: []string{"1", "7"}, classes: patClasses},
		{name: "search form", method: "POST", path: "Observation/_search", ct: "application/x-www-form-urlencoded",
			body: "patient=5&category=laboratory", patients: []string{"5"}, classes: []string{DataClassLaboratory},
			check: func(t *testing.T, r *Request) {
				if p := r.Param("patient"); p == nil || !p.FromBody {
					t.Errorf("patient param %+v not from the body", p)
				}
			}},
		{name: "search form and url", method: "POST", path: "Observation/_search", query: "category=vital-signs",
			ct: "application/x-www-form-urlencoded; charset=utf-8", body: "subject=Patient%2F1&_format=xml",
			patients: []string{"1"}, classes: []string{DataClassVitalSigns},
			check: func(t *testing.T, r *Request) {
				if r.Format != FormatXML {
					t.Errorf("format %v, want xml from the body's _format", r.Format)
				}
			}},
		{name: "search form empty", method: "POST", path: "Observation/_search", ct: "application/json", classes: obsClasses},
		{name: "system search form", method: "POST", path: "_search", ct: "application/x-www-form-urlencoded",
			body: "_type=Immunization&patient=Patient/2", patients: []string{"2"}, classes: []string{DataClassImmunizations}},
		{name: "compartment search form", method: "POST", path: "Patient/1/Observation/_search", ct: "application/x-www-form-urlencoded",
			body: "category=laboratory", patients: []string{"1"}, classes: []string{DataClassLaboratory}},
		{name: "export parameters", method: "POST", path: "$export", ct: fj,
			body: `{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Observation"},
				{"name":"patient","valueReference":{"reference":"Patient/11"}},{"name":"patient","valueReference":{"reference":"Patient/10"}}]}`,
			patients: []string{"10", "11"}, classes: allClassesN},
		{name: "operation empty body", method: "POST", path: "Patient/1/$everything", patients: []string{"1"}, classes: allClassesN},
		{name: "operation form body", method: "POST", path: "Observation/$lastn", ct: "application/x-www-form-urlencoded",
			body: "patient=4&category=vital-signs", patients: []string{"4"}, classes: []string{DataClassVitalSigns}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := c.Classify(tc.method, tc.path, tc.query, hdr("Content-Type", tc.ct))
			if err != nil {
				t.Fatal(err)
			}
			if !req.NeedsBody {
				t.Fatal("NeedsBody not set")
			}
			if err := c.ClassifyBody(req, tc.ct, strings.NewReader(tc.body)); err != nil {
				t.Fatalf("ClassifyBody: %v", err)
			}
			if req.NeedsBody || req.BodyOpaque != tc.opaque {
				t.Errorf("NeedsBody %v BodyOpaque %v", req.NeedsBody, req.BodyOpaque)
			}
			if !sameStrings(req.Patients, tc.patients) {
				t.Errorf("patients %v, want %v", req.Patients, tc.patients)
			}
			if !sameStrings(req.DataClasses, tc.classes) {
				t.Errorf("classes %v, want %v", req.DataClasses, tc.classes)
			}
			if tc.check != nil {
				tc.check(t, req)
			}
		})
	}
}

func TestClassifyBodyErrors(t *testing.T) {
	c := NewClassifier(ClassifierOptions{MaxBodyBytes: 1 << 10, MaxEntries: 3})
	const fj = "application/fhir+json"
	for _, tc := range []struct {
		name, method, path, ct, body string
		want                         []error
		status                       int
	}{
		{"update id mismatch", "PUT", "Patient/1", fj, `{"resourceType":"Patient","id":"2"}`, []error{ErrInvalidBody}, 400},
		{"update id missing", "PUT", "Patient/1", fj, `{"resourceType":"Patient"}`, []error{ErrInvalidBody}, 400},
		{"update wrong type", "PUT", "Patient/1", fj, `{"resourceType":"Observation","id":"1"}`, []error{ErrInvalidBody}, 400},
		{"create wrong type", "POST", "Observation", fj, `{"resourceType":"Condition"}`, []error{ErrInvalidBody}, 400},
		{"create not json", "POST", "Observation", fj, `{"resourceType":`, []error{ErrInvalidBody}, 400},
		{"create array", "POST", "Observation", fj, `[1]`, []error{ErrInvalidBody}, 400},
		{"create no resourceType", "POST", "Observation", fj, `{"id":"1"}`, []error{ErrInvalidBody}, 400},
		{"create empty", "POST", "Observation", fj, ``, []error{ErrInvalidBody}, 400},
		{"patch invalid json", "PATCH", "Observation/1", "application/json-patch+json", `[{"op":`, []error{ErrInvalidBody}, 400},
		{"search json body", "POST", "Observation/_search", fj, `{"resourceType":"Parameters"}`, []error{ErrUnsupportedMediaType}, 415},
		{"search bad form", "POST", "Observation/_search", "application/x-www-form-urlencoded", "code=%zz", []error{ErrInvalidQuery}, 400},
		{"too large", "POST", "Observation", fj, `{"resourceType":"Observation","note":[{"text":"` + strings.Repeat("x", 2000) + `"}]}`, []error{ErrBodyTooLarge}, 413},
		{"too large form", "POST", "_search", "application/x-www-form-urlencoded", "name=" + strings.Repeat("x", 2000), []error{ErrBodyTooLarge}, 413},
		{"too many entries", "POST", "", fj, `{"resourceType":"Bundle","type":"batch","entry":[` + strings.Repeat(`{"request":{"method":"GET","url":"metadata"}},`, 3) + `{"request":{"method":"GET","url":"metadata"}}]}`, []error{ErrBodyTooLarge}, 413},
		{"batch xml", "POST", "", "application/fhir+xml", `<Bundle/>`, []error{ErrUnsupportedMediaType}, 415},
		{"batch not json", "POST", "", fj, `{"resourceType":"Bundle",`, []error{ErrInvalidBody}, 400},
		{"batch trailing data", "POST", "", fj, `{"resourceType":"Bundle","type":"batch"} {}`, []error{ErrInvalidBody}, 400},
		{"batch not an object", "POST", "", fj, `[]`, []error{ErrInvalidBody}, 400},
		{"bundle searchset", "POST", "", fj, `{"resourceType":"Bundle","type":"searchset","entry":[]}`, []error{ErrInvalidBody}, 400},
		{"bundle no type", "POST", "", fj, `{"resourceType":"Bundle"}`, []error{ErrInvalidBody}, 400},
		{"not a bundle", "POST", "", fj, `{"resourceType":"Patient","type":"batch"}`, []error{ErrInvalidBody}, 400},
		{"entry without request", "POST", "", fj, `{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient"}}]}`, []error{ErrInvalidBody}, 400},
		{"entry unknown type", "POST", "", fj, `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Nope/1"}}]}`, []error{ErrInvalidBody, ErrUnknownResourceType}, 400},
		{"entry bad id", "POST", "", fj, `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/a_b"}}]}`, []error{ErrInvalidBody, ErrInvalidID}, 400},
		{"entry absolute url", "POST", "", fj, `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"http://x/fhir/Patient/1"}}]}`, []error{ErrInvalidBody, ErrMalformedPath}, 400},
		{"entry nested batch", "POST", "", fj, `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"POST","url":"/"},"resource":{"resourceType":"Bundle","type":"batch"}}]}`, []error{ErrInvalidBody, ErrMethodNotAllowed}, 400},
		{"entry bad method", "POST", "", fj, `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"FETCH","url":"Patient/1"}}]}`, []error{ErrInvalidBody, ErrMethodNotAllowed}, 400},
		{"entry update mismatch", "POST", "", fj, `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PUT","url":"Patient/1"},"resource":{"resourceType":"Patient","id":"2"}}]}`, []error{ErrInvalidBody}, 400},
		{"entry resource not a resource", "POST", "", fj, `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"},"resource":5}]}`, []error{ErrInvalidBody}, 400},
		{"entry bad query", "POST", "", fj, `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient?name=%zz"}}]}`, []error{ErrInvalidBody, ErrInvalidQuery}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := c.Classify(tc.method, tc.path, "", hdr("Content-Type", tc.ct))
			if err != nil {
				t.Fatal(err)
			}
			err = c.ClassifyBody(req, tc.ct, strings.NewReader(tc.body))
			if err == nil {
				t.Fatalf("no error, request %+v", project(req))
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v does not match %v", err, w)
				}
			}
			var ce *ClassifyError
			if !errors.As(err, &ce) || ce.Status != tc.status {
				t.Fatalf("error %#v, want a *ClassifyError with status %d", err, tc.status)
			}
			for _, secret := range []string{"a_b", "Nope", "zz", "x/fhir"} {
				if strings.Contains(ce.Msg, secret) {
					t.Errorf("message %q echoes the body", ce.Msg)
				}
			}
			if !req.NeedsBody {
				t.Error("NeedsBody cleared after an error")
			}
		})
	}
}

func TestClassifyBodyNotNeeded(t *testing.T) {
	c := NewClassifier(ClassifierOptions{})
	req, err := c.Classify(http.MethodGet, "Patient/1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ClassifyBody(req, "", strings.NewReader("not json")); err != nil {
		t.Errorf("ClassifyBody on a GET: %v", err)
	}
}
