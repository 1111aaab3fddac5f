package demo

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"time"
)

// visit is a generated encounter later resources refer to.
type visit struct {
	id    string
	start time.Time
	pract string
}

// problem is a chronic condition with the medication that treats it.
type problem struct {
	code, display       string
	rxCode, rxDisplay   string
	dosage              string
	labCode, labDisplay string
}

var problems = []problem{
	{"38341003", "Hypertension", "314076", "lisinopril 10 MG Oral Tablet", "Take 1 tablet by mouth daily", "2823-3", "Potassium [Moles/volume] in Serum or Plasma"},
	{"44054006", "Diabetes mellitus type 2", "860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", "Take 1 tablet by mouth with dinner", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"},
	{"55822004", "Hyperlipidemia", "617312", "atorvastatin 20 MG Oral Tablet", "Take 1 tablet by mouth at bedtime", "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"},
}

// clinical emits the current patient's encounters and records and returns
// the encounters.
func (g *gen) clinical() []visit {
	n := 2 + g.rnd.IntN(3)
	visits := make([]visit, n)
	for i := range visits {
		v := &visits[i]
		v.pract = "Practitioner/demo-pract-" + strconv.Itoa(1+g.rnd.IntN(3))
		if i == n-1 {
			v.start = g.ago(time.Duration(6+g.rnd.IntN(54)) * time.Hour)
		} else {
			v.start = g.ago(days(30 + g.rnd.IntN(700)))
		}
	}
	slices.SortFunc(visits, func(a, b visit) int { return a.start.Compare(b.start) })
	for i := range visits {
		visits[i].id = g.id("enc")
	}
	for _, v := range visits {
		g.emit(obj{
			{"resourceType", "Encounter"}, {"id", v.id},
			{"status", "finished"},
			{"class", coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory")},
			{"type", []obj{concept(sysSNOMED, "185349003", "Encounter for check up (procedure)")}},
			{"subject", ref("Patient/" + g.pid)},
			{"participant", []obj{{{"individual", ref(v.pract)}}}},
			{"period", obj{{"start", dateTime(v.start)}, {"end", dateTime(v.start.Add(30 * time.Minute))}}},
			{"serviceProvider", ref("Organization/demo-org-1")},
		})
	}
	last := visits[len(visits)-1]
	probs := []problem{problems[g.rnd.IntN(len(problems))]}
	if g.chance(0.5) {
		if p := problems[g.rnd.IntN(len(problems))]; p != probs[0] {
			probs = append(probs, p)
		}
	}
	for _, p := range probs {
		g.condition("problem-list-item", p.code, p.display, visits[0], nil)
	}
	dx := visits[g.rnd.IntN(len(visits))]
	if g.chance(0.5) {
		g.condition("encounter-diagnosis", "10509002", "Acute bronchitis (disorder)", dx, nil)
	} else {
		g.condition("encounter-diagnosis", "444814009", "Viral sinusitis (disorder)", dx, nil)
	}
	for i, v := range visits {
		g.vitals(v, i == 0)
	}
	g.labs(visits[0], probs)
	g.labs(last, probs)
	smoking := [][2]string{{"266919005", "Never smoker"}, {"8517006", "Ex-smoker"}, {"449868002", "Smokes tobacco daily"}}[g.rnd.IntN(3)]
	g.observation("social-history", "72166-2", "Tobacco smoking status", last, nil,
		kv{"valueCodeableConcept", concept(sysSNOMED, smoking[0], smoking[1])})
	for _, p := range probs {
		g.emit(obj{
			{"resourceType", "MedicationRequest"}, {"id", g.id("med")},
			{"status", "active"}, {"intent", "order"},
			{"category", []obj{concept("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community", "Community")}},
			{"medicationCodeableConcept", concept(sysRxNorm, p.rxCode, p.rxDisplay)},
			{"subject", ref("Patient/" + g.pid)},
			{"encounter", ref("Encounter/" + visits[0].id)},
			{"authoredOn", dateTime(visits[0].start)},
			{"requester", ref(visits[0].pract)},
			{"dosageInstruction", []obj{{{"text", p.dosage}}}},
		})
	}
	allergy := [][3]string{{"91936005", "Allergy to penicillin", "medication"}, {"91935009", "Allergy to peanuts", "food"}}[g.rnd.IntN(2)]
	g.emit(obj{
		{"resourceType", "AllergyIntolerance"}, {"id", g.id("alg")},
		{"clinicalStatus", concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active")},
		{"verificationStatus", concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed")},
		{"type", "allergy"},
		{"category", []string{allergy[2]}},
		{"criticality", "high"},
		{"code", concept(sysSNOMED, allergy[0], allergy[1])},
		{"patient", ref("Patient/" + g.pid)},
		{"recordedDate", dateTime(visits[0].start)},
	})
	g.emit(obj{
		{"resourceType", "Immunization"}, {"id", g.id("imm")},
		{"status", "completed"},
		{"vaccineCode", concept(sysCVX, "140", "Influenza, seasonal, injectable, preservative free")},
		{"patient", ref("Patient/" + g.pid)},
		{"encounter", ref("Encounter/" + visits[0].id)},
		{"occurrenceDateTime", dateTime(visits[0].start)},
		{"primarySource", true},
	})
	g.emit(obj{
		{"resourceType", "Procedure"}, {"id", g.id("proc")},
		{"status", "completed"},
		{"code", concept(sysSNOMED, "430193006", "Medication Reconciliation (procedure)")},
		{"subject", ref("Patient/" + g.pid)},
		{"encounter", ref("Encounter/" + last.id)},
		{"performedDateTime", dateTime(last.start)},
		{"performer", []obj{{{"actor", ref(last.pract)}}}},
	})
	g.note(last, "11506-3", "Progress note", "Progress note (synthetic). Patient seen for a check-up; no acute distress. Continue current medications.", nil)
	g.emit(obj{
		{"resourceType", "Coverage"}, {"id", g.id("cov")},
		{"status", "active"},
		{"type", concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EHCPOL", "extended healthcare")},
		{"subscriberId", "SUB-" + g.pid},
		{"beneficiary", ref("Patient/" + g.pid)},
		{"relationship", concept("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self")},
		{"period", obj{{"start", g.now.AddDate(-1, 0, 0).Format(time.DateOnly)}}},
		{"payor", []obj{ref("Organization/demo-org-2")}},
	})
	return visits
}

// condition emits a Condition of the given category.
func (g *gen) condition(category, code, display string, v visit, meta obj) {
	g.emit(obj{
		{"resourceType", "Condition"}, {"id", g.id("cond")},
		{"meta", meta},
		{"clinicalStatus", concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")},
		{"verificationStatus", concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")},
		{"category", []obj{concept(sysCondCat, category, map[string]string{
			"problem-list-item": "Problem List Item", "encounter-diagnosis": "Encounter Diagnosis"}[category])}},
		{"code", concept(sysSNOMED, code, display)},
		{"subject", ref("Patient/" + g.pid)},
		{"encounter", ref("Encounter/" + v.id)},
		{"onsetDateTime", dateTime(v.start)},
		{"recordedDate", dateTime(v.start)},
	})
}

// observation emits an Observation and returns its id; value is its value[x].
func (g *gen) observation(category, code, display string, v visit, meta obj, value kv, extra ...kv) string {
	id := g.id("obs")
	catDisplay := map[string]string{"vital-signs": "Vital Signs", "laboratory": "Laboratory", "social-history": "Social History"}[category]
	o := obj{
		{"resourceType", "Observation"}, {"id", id},
		{"meta", meta},
		{"status", "final"},
		{"category", []obj{concept(sysObsCat, category, catDisplay)}},
		{"code", concept(sysLOINC, code, display)},
		{"subject", ref("Patient/" + g.pid)},
		{"encounter", ref("Encounter/" + v.id)},
		{"effectiveDateTime", dateTime(v.start)},
	}
	o = append(o, extra...)
	if value.k != "" {
		o = append(o, value)
	}
	g.emit(o)
	return id
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// vitals emits blood pressure, heart rate and weight for a visit; the
// first heart rate of a patient is labelled normal confidentiality (N).
func (g *gen) vitals(v visit, first bool) {
	sys, dia := 105+g.rnd.IntN(45), 65+g.rnd.IntN(25)
	g.observation("vital-signs", "85354-9", "Blood pressure panel with all children optional", v, nil, kv{},
		kv{"component", []obj{
			{{"code", concept(sysLOINC, "8480-6", "Systolic blood pressure")}, {"valueQuantity", quantity(float64(sys), "mm[Hg]")}},
			{{"code", concept(sysLOINC, "8462-4", "Diastolic blood pressure")}, {"valueQuantity", quantity(float64(dia), "mm[Hg]")}},
		}})
	var meta obj
	if first {
		meta = labels(coding(sysConf, "N", "normal"))
	}
	g.observation("vital-signs", "8867-4", "Heart rate", v, meta, kv{"valueQuantity", quantity(float64(55+g.rnd.IntN(45)), "/min")})
	g.observation("vital-signs", "29463-7", "Body weight", v, nil, kv{"valueQuantity", quantity(round1(50+g.rnd.Float64()*60), "kg")})
}

// labs emits a lab panel for a visit (issued two hours after it) and the
// DiagnosticReport that groups it.
func (g *gen) labs(v visit, probs []problem) {
	issued := v.start.Add(2 * time.Hour)
	if issued.After(g.now) {
		issued = g.now
	}
	var results []obj
	add := func(code, display string, value float64, unit string) {
		id := g.observation("laboratory", code, display, v, nil, kv{"valueQuantity", quantity(value, unit)}, kv{"issued", dateTime(issued)})
		results = append(results, ref("Observation/"+id))
	}
	add("2339-0", "Glucose [Mass/volume] in Blood", float64(70+g.rnd.IntN(90)), "mg/dL")
	add("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", round1(0.6+g.rnd.Float64()*0.8), "mg/dL")
	for _, p := range probs {
		switch p.labCode {
		case "2823-3":
			add(p.labCode, p.labDisplay, round1(3.5+g.rnd.Float64()*1.5), "mmol/L")
		case "4548-4":
			add(p.labCode, p.labDisplay, round1(5+g.rnd.Float64()*4), "%")
		default:
			add(p.labCode, p.labDisplay, float64(150+g.rnd.IntN(120)), "mg/dL")
		}
	}
	g.emit(obj{
		{"resourceType", "DiagnosticReport"}, {"id", g.id("dr")},
		{"status", "final"},
		{"category", []obj{concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")}},
		{"code", concept(sysLOINC, "24323-8", "Comprehensive metabolic 2000 panel - Serum or Plasma")},
		{"subject", ref("Patient/" + g.pid)},
		{"encounter", ref("Encounter/" + v.id)},
		{"effectiveDateTime", dateTime(v.start)},
		{"issued", dateTime(issued)},
		{"performer", []obj{ref("Organization/demo-org-1")}},
		{"result", results},
	})
}

// note emits a clinical-note DocumentReference with a text attachment.
func (g *gen) note(v visit, code, display, text string, meta obj) {
	g.emit(obj{
		{"resourceType", "DocumentReference"}, {"id", g.id("doc")},
		{"meta", meta},
		{"status", "current"},
		{"type", concept(sysLOINC, code, display)},
		{"category", []obj{concept("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note")}},
		{"subject", ref("Patient/" + g.pid)},
		{"date", dateTime(v.start.Add(time.Hour))},
		{"author", []obj{ref(v.pract)}},
		{"content", []obj{{{"attachment", obj{
			{"contentType", "text/plain"},
			{"data", base64.StdEncoding.EncodeToString([]byte(text))},
			{"title", display},
		}}}}},
		{"context", obj{{"encounter", []obj{ref("Encounter/" + v.id)}}, {"period", obj{{"start", dateTime(v.start)}}}}},
	})
}

// labelled emits the security-labelled records: always for demo-1 (all),
// by chance for the others.
func (g *gen) labelled(visits []visit, all, female bool, age int) {
	v := visits[len(visits)-1]
	if all || g.chance(0.2) {
		g.condition("problem-list-item", "7200002", "Alcoholism (disorder)", v, labels(
			coding(sysActCode, "ETH", "substance abuse information sensitivity"),
			coding(sysPrivacyLaw, "42CFRPart2", "42 CFR Part2"),
			coding(sysConf, "R", "restricted"),
			coding(sysActCode, "NORDSCLCD", "no redisclosure without consent directive"),
		))
	}
	if all || g.chance(0.2) {
		g.note(v, "11488-4", "Consult note", "Psychiatry consult note (synthetic). Follow-up in four weeks.",
			labels(coding(sysActCode, "PSY", "psychiatry disorder information sensitivity")))
	}
	if !all && !g.chance(0.3) {
		return
	}
	sex := labels(coding(sysActCode, "SEX", "sexuality and reproductive health information sensitivity"))
	switch {
	case female && age < 50:
		g.condition("problem-list-item", "72892002", "Normal pregnancy", v, sex)
		g.observation("social-history", "82810-3", "Pregnancy status", v, sex, kv{"valueCodeableConcept", concept(sysSNOMED, "77386006", "Pregnant")})
	case female:
		g.condition("problem-list-item", "289903006", "Finding of menopause", v, sex)
	default:
		g.condition("problem-list-item", "397803000", "Erectile dysfunction", v, sex)
	}
}
