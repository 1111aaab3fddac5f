package configs_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
)

// TestExamplePolicies loads every example policy file: each must be valid
// on its own, and together they must show each action.
func TestExamplePolicies(t *testing.T) {
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("policies", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no example policies")
	}
	actions := map[decision.Action]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			set, err := policy.Load([]string{f}, policy.Options{Catalog: cat})
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Policies()) == 0 {
				t.Fatal("no policy in the file")
			}
			for _, p := range set.Policies() {
				actions[p.Action] = true
				if p.Restricts() && p.Entry() == nil {
					t.Errorf("%s cites no exception", p.ID)
				}
			}
		})
	}
	set, err := policy.Load([]string{"policies"}, policy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Policies()) != len(files) {
		t.Errorf("the folder loads %d policies, want %d", len(set.Policies()), len(files))
	}
	for _, a := range []decision.Action{decision.Redact, decision.Throttle, decision.Delay, decision.Deny} {
		if !actions[a] {
			t.Errorf("no example of %s", a)
		}
	}
}

// TestPolicyKeysDocumented checks that configs/README.md documents every
// key of the policy file format.
func TestPolicyKeysDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			keys = append(keys, prefix+name)
			sub := prefix + name + "."
			if f.Type.Kind() == reflect.Slice {
				sub = prefix + name + "[]."
			}
			walk(f.Type, sub)
		}
	}
	walk(reflect.TypeOf(policy.Policy{}), "")
	for _, k := range keys {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("configs/README.md does not document policy key `%s`", k)
		}
	}
	for _, k := range []string{"policy_review.max_interval", "notices.time_zone"} {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("configs/README.md does not document `%s`", k)
		}
	}
	_ = configs.Defaults
}
