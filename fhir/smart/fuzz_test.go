package smart

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ehigate/ehigate/fhir/fhirdata"
)

// scopeSeeds returns scopes built from US Core: the server's resource
// types in every context and form, and granular scopes on the codes of its
// category CodeSystems. It returns nil when the shared data is absent.
func scopeSeeds() []string {
	dir, ok := fhirdata.Lookup()
	if !ok {
		return nil
	}
	var cs struct {
		Rest []struct {
			Resource []struct {
				Type         string `json:"type"`
				SearchParams []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"searchParam"`
			} `json:"resource"`
		} `json:"rest"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "us-core", "CapabilityStatement-us-core-server.json"))
	if err != nil || json.Unmarshal(b, &cs) != nil || len(cs.Rest) == 0 {
		return nil
	}
	var out []string
	for _, r := range cs.Rest[0].Resource {
		for _, ctx := range []string{"patient", "user", "system"} {
			out = append(out, ctx+"/"+r.Type+".rs", ctx+"/"+r.Type+".read", ctx+"/"+r.Type+".cud")
		}
		for _, sp := range r.SearchParams {
			if sp.Type == "token" {
				out = append(out, "patient/"+r.Type+".rs?"+sp.Name+"=x")
			}
		}
	}
	for _, f := range []string{"CodeSystem-condition-category.json", "CodeSystem-us-core-documentreference-category.json", "CodeSystem-careplan-category.json"} {
		var c struct {
			URL     string `json:"url"`
			Concept []struct {
				Code string `json:"code"`
			} `json:"concept"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "us-core", f))
		if err != nil || json.Unmarshal(b, &c) != nil {
			continue
		}
		for _, k := range c.Concept {
			out = append(out, "patient/Condition.rs?category="+c.URL+"|"+k.Code)
		}
	}
	return out
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{
		"patient/Observation.rs", "user/*.cruds", "system/*.rs", "patient/*.*", "patient/Observation.read",
		"user/Appointment.write", "launch/patient", "openid", "fhirUser", "offline_access",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"patient/Condition.rs?category=problem-list-item,health-concern&clinical-status=active",
		"http://smarthealthit.org/fhir/scopes/patient/*.r", "patient/Observation.dus",
		"user/Observation.rs?code=a\\,b", "user/Observation.rs?a%26b=c%2Cd",
	} {
		f.Add(s)
	}
	for _, s := range scopeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScope(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidScope) && !errors.Is(err, ErrNotResourceScope) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if sc.Perms == 0 || sc.Perms&^AllPerms != 0 || sc.Type == "" || sc.Context.String() == "" {
			t.Fatalf("bad scope %+v from %q", sc, s)
		}
		norm := sc.String()
		again, err := ParseScope(norm)
		if err != nil {
			t.Fatalf("normalised %q (from %q) does not parse: %v", norm, s, err)
		}
		again.V1 = sc.V1
		if !reflect.DeepEqual(again, sc) {
			t.Fatalf("round trip of %q via %q: %+v != %+v", s, norm, again, sc)
		}
		if again.String() != norm {
			t.Fatalf("String not stable: %q then %q", norm, again.String())
		}
	})
}
