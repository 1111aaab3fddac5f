package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Code systems used by the generated records.
const (
	sysLOINC      = "http://loinc.org"
	sysSNOMED     = "http://snomed.info/sct"
	sysRxNorm     = "http://www.nlm.nih.gov/research/umls/rxnorm"
	sysCVX        = "http://hl7.org/fhir/sid/cvx"
	sysUCUM       = "http://unitsofmeasure.org"
	sysObsCat     = "http://terminology.hl7.org/CodeSystem/observation-category"
	sysCondCat    = "http://terminology.hl7.org/CodeSystem/condition-category"
	sysActCode    = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	sysPrivacyLaw = "http://terminology.hl7.org/CodeSystem/v3-ActUSPrivacyLaw"
	sysConf       = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	sysMRN        = "http://hospital.example.org/fhir/sid/mrn"
)

// gen builds the synthetic records of one Generate call.
type gen struct {
	rnd *rand.Rand
	now time.Time
	out []json.RawMessage
	pid string         // current patient id
	n   map[string]int // per-patient counters by id infix
}

// Generate returns n synthetic patients (ids demo-1 … demo-n) with their
// records, plus the shared Organizations and Practitioners they reference,
// as resources ready for Put. The same seed and now give the same output.
// Record dates are relative to now: some lab results were issued in the 72
// hours before it. A few resources carry security labels: a substance-use
// Condition (ETH, 42CFRPart2, R, NORDSCLCD), a psychiatric
// DocumentReference (PSY), reproductive-health Observations and Conditions
// (SEX) and a vital sign marked N; demo-1 has each of them.
func Generate(n int, seed int64, now time.Time) []json.RawMessage {
	g := &gen{rnd: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)), now: now.UTC().Truncate(time.Minute)}
	g.shared()
	for i := 1; i <= n; i++ {
		g.patient(i)
	}
	return g.out
}

func (g *gen) emit(o obj) {
	b, err := marshal(o)
	if err != nil { // obj values are strings, numbers, bools, slices and objs
		panic(fmt.Sprintf("demo: generate: %v", err))
	}
	g.out = append(g.out, b)
}

// id returns the next id of kind for the current patient, e.g. demo-3-obs-2.
func (g *gen) id(kind string) string {
	g.n[kind]++
	return g.pid + "-" + kind + "-" + strconv.Itoa(g.n[kind])
}

func (g *gen) pick(s []string) string { return s[g.rnd.IntN(len(s))] }

func (g *gen) chance(p float64) bool { return g.rnd.Float64() < p }

func (g *gen) ago(d time.Duration) time.Time { return g.now.Add(-d) }

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func dateTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func coding(system, code, display string) obj {
	return obj{{"system", system}, {"code", code}, {"display", display}}
}

func concept(system, code, display string) obj {
	return obj{{"coding", []obj{coding(system, code, display)}}, {"text", display}}
}

func ref(r string) obj { return obj{{"reference", r}} }

func quantity(v float64, unit string) obj {
	return obj{{"value", v}, {"unit", unit}, {"system", sysUCUM}, {"code", unit}}
}

// labels returns a meta with security labels.
func labels(cs ...obj) obj { return obj{{"security", cs}} }

func (g *gen) shared() {
	g.emit(obj{
		{"resourceType", "Organization"}, {"id", "demo-org-1"},
		{"identifier", []obj{{{"system", "http://hl7.org/fhir/sid/us-npi"}, {"value", "9990000001"}}}},
		{"active", true},
		{"type", []obj{concept("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")}},
		{"name", "Demo General Hospital (synthetic)"},
		{"address", []obj{address(1)}},
	})
	g.emit(obj{
		{"resourceType", "Organization"}, {"id", "demo-org-2"},
		{"active", true},
		{"type", []obj{concept("http://terminology.hl7.org/CodeSystem/organization-type", "pay", "Payer")}},
		{"name", "Example Health Plan (synthetic)"},
	})
	for i, name := range [][2]string{{"Testa", "Example"}, {"Mock", "Clinician"}, {"Sample", "Doctor"}} {
		g.emit(obj{
			{"resourceType", "Practitioner"}, {"id", "demo-pract-" + strconv.Itoa(i+1)},
			{"identifier", []obj{{{"system", "http://hl7.org/fhir/sid/us-npi"}, {"value", "999100000" + strconv.Itoa(i+1)}}}},
			{"active", true},
			{"name", []obj{{{"family", name[1]}, {"given", []string{name[0]}}, {"prefix", []string{"Dr."}}}}},
		})
	}
}

func address(n int) obj {
	return obj{
		{"line", []string{strconv.Itoa(n) + " Example Street"}},
		{"city", "Testville"}, {"state", "MA"}, {"postalCode", "01234"}, {"country", "US"},
	}
}

var (
	femaleNames = []string{"Ada", "Beth", "Cleo", "Dora", "Edie", "Fern", "Gwen", "Hana"}
	maleNames   = []string{"Abe", "Bo", "Cal", "Dex", "Eli", "Finn", "Gus", "Hal"}
	familyNames = []string{"Testperson", "Sampleton", "Mockwell", "Fakely", "Demoson", "Placeholder", "Dummyford", "Synthetico"}
)

// patient emits patient i and the records of that patient.
func (g *gen) patient(i int) {
	g.pid = "demo-" + strconv.Itoa(i)
	g.n = map[string]int{}
	female := i == 1 || g.chance(0.5)
	gender, given := "male", g.pick(maleNames)
	if female {
		gender, given = "female", g.pick(femaleNames)
	}
	age := 18 + g.rnd.IntN(68)
	if i == 1 {
		age = 34
	}
	birth := g.now.AddDate(-age, -g.rnd.IntN(12), -g.rnd.IntN(28))
	g.emit(obj{
		{"resourceType", "Patient"}, {"id", g.pid},
		{"meta", obj{{"profile", []string{"http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"}}}},
		{"identifier", []obj{{
			{"type", concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical Record Number")},
			{"system", sysMRN}, {"value", fmt.Sprintf("MRN-%06d", 100000+i)},
		}}},
		{"active", true},
		{"name", []obj{{{"use", "official"}, {"family", g.pick(familyNames)}, {"given", []string{given}}}}},
		{"telecom", []obj{{{"system", "phone"}, {"value", fmt.Sprintf("555-01%02d", i%100)}, {"use", "home"}}}},
		{"gender", gender},
		{"birthDate", birth.Format(time.DateOnly)},
		{"address", []obj{address(100 + i)}},
		{"managingOrganization", ref("Organization/demo-org-1")},
	})
	g.labelled(g.clinical(), i == 1, female, age)
}
