package fhir

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// compartmentRow is one row of patient-compartment-r4.tsv.
type compartmentRow struct {
	Type, Param, Expr string
}

// readCompartmentTSV reads patient-compartment-r4.tsv.
func readCompartmentTSV(t testing.TB) []compartmentRow {
	t.Helper()
	f, err := os.Open(filepath.Join(classifyDataDir(t), "r4-spec", "patient-compartment-r4.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []compartmentRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 4 {
			t.Fatalf("bad TSV row %q", sc.Text())
		}
		rows = append(rows, compartmentRow{cols[0], cols[1], cols[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// tsvPaths turns a TSV FHIRPath expression into element paths below the
// resource ("AuditEvent.agent.who.where(resolve() is Patient) | ..." gives
// agent.who, ...), and whether each keeps only Patients.
func tsvPaths(t testing.TB, typ, expr string) (paths []string) {
	t.Helper()
	for _, part := range strings.Split(expr, "|") {
		part = strings.TrimSpace(part)
		rest, ok := strings.CutPrefix(part, typ+".")
		if !ok {
			t.Fatalf("expression %q does not start with %s.", part, typ)
		}
		rest = strings.TrimSuffix(rest, ".where(resolve() is Patient)")
		if strings.ContainsAny(rest, "()") {
			t.Fatalf("expression %q is not a simple path", part)
		}
		paths = append(paths, rest)
	}
	return paths
}

// TestCompartmentTableMatchesSpec proves the hand-written table equals the
// R4 Patient CompartmentDefinition (types and parameter order) and the
// TSV's element paths.
func TestCompartmentTableMatchesSpec(t *testing.T) {
	rows := readCompartmentTSV(t)
	want := map[string][]CompartmentParam{}
	for _, r := range rows {
		want[r.Type] = append(want[r.Type], CompartmentParam{Param: r.Param, Paths: tsvPaths(t, r.Type, r.Expr)})
	}
	if len(rows) != 100 || len(want) != 66 {
		t.Fatalf("TSV has %d rows over %d types, want 100 over 66", len(rows), len(want))
	}
	cd, _, ok := classifyReadJSON(t, filepath.Join(classifyDataDir(t), "r4-spec", "CompartmentDefinition-patient.json"))
	if !ok {
		t.Fatal("CompartmentDefinition-patient.json does not parse")
	}
	withParams := 0
	for _, r := range cd["resource"].([]any) {
		m := r.(map[string]any)
		code := m["code"].(string)
		params, _ := m["param"].([]any)
		got := CompartmentParams(code)
		if len(params) == 0 {
			if got != nil {
				t.Errorf("%s: table has params, the definition has none", code)
			}
			continue
		}
		withParams++
		var names []string
		for _, p := range got {
			names = append(names, p.Param)
		}
		var defNames []string
		for _, p := range params {
			defNames = append(defNames, p.(string))
		}
		if !slices.Equal(names, defNames) {
			t.Errorf("%s: params %v, definition %v", code, names, defNames)
		}
	}
	if withParams != len(patientCompartment) {
		t.Errorf("definition has %d types with params, table %d", withParams, len(patientCompartment))
	}
	for typ, wps := range want {
		got := CompartmentParams(typ)
		if len(got) != len(wps) {
			t.Errorf("%s: %d params, TSV %d", typ, len(got), len(wps))
			continue
		}
		for i := range wps {
			if got[i].Param != wps[i].Param || !slices.Equal(got[i].Paths, wps[i].Paths) {
				t.Errorf("%s: %+v, TSV %+v", typ, got[i], wps[i])
			}
		}
	}
}

func TestCompartmentParamsExamples(t *testing.T) {
	for _, tc := range []struct {
		typ, param string
		paths      []string
	}{
		{"Appointment", "actor", []string{"participant.actor"}},
		{"AuditEvent", "patient", []string{"agent.who", "entity.what"}},
		{"Coverage", "policy-holder", []string{"policyHolder"}},
		{"Observation", "performer", []string{"performer"}},
		{"Person", "patient", []string{"link.target"}},
		{"SupplyRequest", "subject", []string{"deliverTo"}},
	} {
		t.Run(tc.typ+"."+tc.param, func(t *testing.T) {
			for _, p := range CompartmentParams(tc.typ) {
				if p.Param == tc.param {
					if !slices.Equal(p.Paths, tc.paths) {
						t.Errorf("paths %v, want %v", p.Paths, tc.paths)
					}
					return
				}
			}
			t.Errorf("no param %s", tc.param)
		})
	}
	if CompartmentParams("Organization") != nil || CompartmentParams("Nope") != nil {
		t.Error("types outside the compartment have params")
	}
}

func TestCompartmentTypes(t *testing.T) {
	types := CompartmentTypes()
	if !slices.Equal(types, []string{"Device", "Encounter", "Patient", "Practitioner", "RelatedPerson"}) {
		t.Errorf("CompartmentTypes() = %v", types)
	}
	for _, typ := range types {
		if !isCompartmentType(typ) || !IsResourceType(typ) {
			t.Errorf("%s: not a compartment resource type", typ)
		}
	}
	for _, typ := range []string{"Observation", "Group", "", "patient"} {
		if isCompartmentType(typ) {
			t.Errorf("%q taken for a compartment", typ)
		}
	}
}
