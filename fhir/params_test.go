package fhir

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Param
	}{
		{"empty", "", nil},
		{"simple", "patient=123", []Param{{Key: "patient", Name: "patient", Values: []string{"123"}}}},
		{"repeats stay separate", "date=ge2020&date=lt2021", []Param{
			{Key: "date", Name: "date", Values: []string{"ge2020"}},
			{Key: "date", Name: "date", Values: []string{"lt2021"}},
		}},
		{"comma OR", "code=a,b,c", []Param{{Key: "code", Name: "code", Values: []string{"a", "b", "c"}}}},
		{"escaped comma", `name=Smith\,John,Doe`, []Param{{Key: "name", Name: "name", Values: []string{"Smith,John", "Doe"}}}},
		{"escaped comma percent-encoded", `name=Smith%5C%2CJohn`, []Param{{Key: "name", Name: "name", Values: []string{"Smith,John"}}}},
		{"encoded comma splits", `code=a%2Cb`, []Param{{Key: "code", Name: "code", Values: []string{"a", "b"}}}},
		{"escaped pipe dollar backslash", `x=a\|b\$c\\d`, []Param{{Key: "x", Name: "x", Values: []string{`a|b$c\d`}}}},
		{"lone backslash kept", `x=a\b`, []Param{{Key: "x", Name: "x", Values: []string{`a\b`}}}},
		{"plus is space", "name=John+Smith", []Param{{Key: "name", Name: "name", Values: []string{"John Smith"}}}},
		{"percent-encoded plus", "_lastUpdated=gt2020-01-01T00:00:00%2B10:00", []Param{{Key: "_lastUpdated", Name: "_lastUpdated", Values: []string{"gt2020-01-01T00:00:00+10:00"}}}},
		{"token system|code", "category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", []Param{{Key: "category", Name: "category", Values: []string{"http://terminology.hl7.org/CodeSystem/observation-category|laboratory"}}}},
		{"modifier", "name:exact=Eve", []Param{{Key: "name:exact", Name: "name", Modifier: "exact", Values: []string{"Eve"}}}},
		{"type modifier", "subject:Patient=1", []Param{{Key: "subject:Patient", Name: "subject", Modifier: "Patient", Values: []string{"1"}}}},
		{"chain with type", "subject:Patient.name=peter", []Param{{Key: "subject:Patient.name", Name: "subject", Modifier: "Patient", Chain: []string{"name"}, Values: []string{"peter"}}}},
		{"chain", "subject.name=peter", []Param{{Key: "subject.name", Name: "subject", Chain: []string{"name"}, Values: []string{"peter"}}}},
		{"long chain", "patient.general-practitioner:Practitioner.name=x", []Param{{Key: "patient.general-practitioner:Practitioner.name", Name: "patient", Chain: []string{"general-practitioner:Practitioner", "name"}, Values: []string{"x"}}}},
		{"include", "_include=Observation:patient", []Param{{Key: "_include", Name: "_include", Values: []string{"Observation:patient"}}}},
		{"include target iterate", "_include:iterate=MedicationRequest:medication:Medication", []Param{{Key: "_include:iterate", Name: "_include", Modifier: "iterate", Values: []string{"MedicationRequest:medication:Medication"}}}},
		{"revinclude", "_revinclude=Provenance:target", []Param{{Key: "_revinclude", Name: "_revinclude", Values: []string{"Provenance:target"}}}},
		{"include wildcard", "_include=*", []Param{{Key: "_include", Name: "_include", Values: []string{"*"}}}},
		{"has", "_has:Observation:patient:code=1234-5", []Param{{Key: "_has:Observation:patient:code", Name: "_has", Has: []HasLink{{"Observation", "patient"}}, HasParam: "code", Values: []string{"1234-5"}}}},
		{"nested has", "_has:Observation:patient:_has:AuditEvent:entity:agent=MyUserId", []Param{{Key: "_has:Observation:patient:_has:AuditEvent:entity:agent", Name: "_has", Has: []HasLink{{"Observation", "patient"}, {"AuditEvent", "entity"}}, HasParam: "agent", Values: []string{"MyUserId"}}}},
		{"has with modifier", "_has:Observation:subject:code:text=flu", []Param{{Key: "_has:Observation:subject:code:text", Name: "_has", Modifier: "text", Has: []HasLink{{"Observation", "subject"}}, HasParam: "code", Values: []string{"flu"}}}},
		{"no value", "_summary", []Param{{Key: "_summary", Name: "_summary", Values: []string{""}}}},
		{"empty value", "name=", []Param{{Key: "name", Name: "name", Values: []string{""}}}},
		{"stray ampersands", "&a=1&&b=2&", []Param{{Key: "a", Name: "a", Values: []string{"1"}}, {Key: "b", Name: "b", Values: []string{"2"}}}},
		{"equals in value", "x=a=b", []Param{{Key: "x", Name: "x", Values: []string{"a=b"}}}},
		{"encoded key", "name%3Aexact=x", []Param{{Key: "name:exact", Name: "name", Modifier: "exact", Values: []string{"x"}}}},
		{"dollar value", "_list=$current-medications", []Param{{Key: "_list", Name: "_list", Values: []string{"$current-medications"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseParams(tc.in)
			if err != nil {
				t.Fatalf("ParseParams(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseParams(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseParamsErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"bad escape", "name=%G1"},
		{"truncated escape", "name=abc%4"},
		{"bad escape in key", "na%zme=1"},
		{"NUL in value", "name=a%00b"},
		{"control char in key", "na%0Ame=1"},
		{"empty name", "=1"},
		{"empty modifier", "name:=1"},
		{"only modifier", ":exact=1"},
		{"empty chain link", "subject..name=x"},
		{"chain to unknown type", "subject:Patient.link:Nope.name=x"},
		{"has too short", "_has:Observation:patient=1"},
		{"has unknown type", "_has:Nope:patient:code=1"},
		{"has empty param", "_has:Observation:patient:=1"},
		{"has alone", "_has=1"},
		{"has ending in has", "_has:Observation:patient:_has=1"},
		{"has chained", "_has.x=1"},
		{"include unknown type", "_include=Nope:patient"},
		{"include no param", "_include=Observation"},
		{"include bad target", "_include=Observation:subject:nope"},
		{"include empty", "_include="},
		{"space in name", "a+b=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseParams(tc.in)
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("ParseParams(%q) error = %v, want ErrInvalidQuery", tc.in, err)
			}
			var ce *ClassifyError
			if !errors.As(err, &ce) || ce.Status != 400 {
				t.Fatalf("error %v is not a 400 *ClassifyError", err)
			}
			if strings.Contains(ce.Msg, "G1") || strings.Contains(ce.Msg, "Nope") {
				t.Errorf("message %q echoes the query", ce.Msg)
			}
		})
	}
}

func TestParseFormParams(t *testing.T) {
	got, err := ParseFormParams("patient=Patient%2F1&code=a,b")
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{
		{Key: "patient", Name: "patient", Values: []string{"Patient/1"}, FromBody: true},
		{Key: "code", Name: "code", Values: []string{"a", "b"}, FromBody: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

// TestParseParamsValuesDoNotAlias checks that appending to one Param's
// Values cannot overwrite the next Param's (they share a backing array).
func TestParseParamsValuesDoNotAlias(t *testing.T) {
	ps, err := ParseParams("a=1&b=2")
	if err != nil {
		t.Fatal(err)
	}
	_ = append(ps[0].Values, "x")
	if ps[1].Values[0] != "2" {
		t.Errorf("appending to a's values changed b's: %v", ps[1].Values)
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"patient=123", "code=a,b&date=ge2020", `name=a\,b`, "subject:Patient.name=x",
		"_has:Observation:patient:_has:AuditEvent:entity:agent=1", "_include:iterate=A:b:Patient",
		"x=%zz", "a=%", "+=+", "_revinclude=Provenance:target&_count=10",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		ps, err := ParseParams(q)
		if err != nil {
			var ce *ClassifyError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error %v is not an ErrInvalidQuery *ClassifyError", err)
			}
			return
		}
		for _, p := range ps {
			if p.Name == "" || len(p.Values) == 0 {
				t.Fatalf("param %+v has no name or no values", p)
			}
			if p.Name == "_has" && (len(p.Has) == 0 || p.HasParam == "") {
				t.Fatalf("_has param %+v without links", p)
			}
		}
	})
}
