package smart

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	lab := "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
	tests := []struct {
		in      string
		want    Scope
		err     error
		norm    string // normalised form, when it differs from in
		comment string
	}{
		{in: "patient/Observation.rs", want: Scope{Context: ContextPatient, Type: "Observation", Perms: Read | Search}},
		{in: "user/*.cruds", want: Scope{Context: ContextUser, Type: "*", Perms: AllPerms}},
		{in: "system/Patient.r", want: Scope{Context: ContextSystem, Type: "Patient", Perms: Read}},
		{in: "patient/Encounter.cud", want: Scope{Context: ContextPatient, Type: "Encounter", Perms: Create | Update | Delete}},
		{in: "user/Appointment.s", want: Scope{Context: ContextUser, Type: "Appointment", Perms: Search}},
		{in: "patient/Observation.read", want: Scope{Context: ContextPatient, Type: "Observation", Perms: Read | Search, V1: true}, norm: "patient/Observation.rs"},
		{in: "user/MedicationRequest.write", want: Scope{Context: ContextUser, Type: "MedicationRequest", Perms: Create | Update | Delete, V1: true}, norm: "user/MedicationRequest.cud"},
		{in: "patient/*.*", want: Scope{Context: ContextPatient, Type: "*", Perms: AllPerms, V1: true}, norm: "patient/*.cruds"},
		{in: "patient/*.read", want: Scope{Context: ContextPatient, Type: "*", Perms: Read | Search, V1: true}, norm: "patient/*.rs"},
		{
			in:   "patient/Observation.rs?category=" + lab,
			want: Scope{Context: ContextPatient, Type: "Observation", Perms: Read | Search, Constraints: []Constraint{{Param: "category", Values: []string{lab}}}},
		},
		{
			in:   "user/Condition.rs?category=problem-list-item,health-concern&clinical-status=active",
			want: Scope{Context: ContextUser, Type: "Condition", Perms: Read | Search, Constraints: []Constraint{{Param: "category", Values: []string{"problem-list-item", "health-concern"}}, {Param: "clinical-status", Values: []string{"active"}}}},
		},
		{
			in:   "patient/Observation.rs?code=http%3A%2F%2Floinc.org%7C8867-4",
			want: Scope{Context: ContextPatient, Type: "Observation", Perms: Read | Search, Constraints: []Constraint{{Param: "code", Values: []string{"http://loinc.org|8867-4"}}}},
			norm: "patient/Observation.rs?code=http://loinc.org|8867-4", comment: "percent-encoded value",
		},
		{in: "http://smarthealthit.org/fhir/scopes/patient/*.r", want: Scope{Context: ContextPatient, Type: "*", Perms: Read}, norm: "patient/*.r", comment: "URI form"},

		{in: "openid", err: ErrNotResourceScope},
		{in: "fhirUser", err: ErrNotResourceScope},
		{in: "profile", err: ErrNotResourceScope},
		{in: "launch", err: ErrNotResourceScope},
		{in: "launch/patient", err: ErrNotResourceScope},
		{in: "launch/encounter", err: ErrNotResourceScope},
		{in: "offline_access", err: ErrNotResourceScope},
		{in: "online_access", err: ErrNotResourceScope},
		{in: "__org.example.custom", err: ErrNotResourceScope},
		{in: "https://example.org/scopes/custom", err: ErrNotResourceScope},
		{in: "", err: ErrNotResourceScope},

		{in: "patient/Observation.dus", err: ErrInvalidScope, comment: "out of order"},
		{in: "patient/Observation.rr", err: ErrInvalidScope, comment: "repeated"},
		{in: "patient/Observation.x", err: ErrInvalidScope},
		{in: "patient/Observation.", err: ErrInvalidScope},
		{in: "patient/Observation", err: ErrInvalidScope},
		{in: "patient/Foo.rs", err: ErrInvalidScope, comment: "unknown type"},
		{in: "patient/observation.rs", err: ErrInvalidScope, comment: "types are case-sensitive"},
		{in: "patient/Observation.read?category=x", err: ErrInvalidScope, comment: "constraints are v2 only"},
		{in: "patient/Observation.rs?", err: ErrInvalidScope},
		{in: "patient/Observation.rs?category=", err: ErrInvalidScope},
		{in: "patient/Observation.rs?category=%zz", err: ErrInvalidScope},
		{in: "patient/Observation.rs?category=a,,b", err: ErrInvalidScope},
		{in: "patient/Observation.rs?category=" + strings.Repeat("a", maxScopeLen), err: ErrInvalidScope, comment: "too long"},
	}
	for _, tc := range tests {
		name := tc.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			got, err := ParseScope(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				if strings.Contains(err.Error(), tc.in) && tc.in != "" {
					t.Errorf("error %q repeats the scope", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			norm := tc.norm
			if norm == "" {
				norm = tc.in
			}
			if s := got.String(); s != norm {
				t.Errorf("String() = %q, want %q", s, norm)
			}
		})
	}
}

func TestPermString(t *testing.T) {
	tests := []struct {
		p    Perm
		want string
	}{
		{0, ""}, {Read, "r"}, {Read | Search, "rs"}, {AllPerms, "cruds"}, {Create | Delete, "cd"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("got %q", got)
			}
			if tc.p == 0 {
				return
			}
			if p, _, ok := parsePerms(tc.want); !ok || p != tc.p {
				t.Errorf("parsePerms(%q) = %v, %v", tc.want, p, ok)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	in := strings.Fields("openid fhirUser launch/patient offline_access patient/Observation.rs patient/Foo.r user/Practitioner.read patient/Condition.sr")
	got, invalid := ParseScopes(in)
	if invalid != 2 {
		t.Errorf("invalid = %d, want 2", invalid)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.String())
	}
	if want := "patient/Observation.rs user/Practitioner.rs"; strings.Join(names, " ") != want {
		t.Errorf("got %q, want %q", names, want)
	}
}
