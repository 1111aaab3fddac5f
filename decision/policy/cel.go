package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
)

// ErrCondition is matched (errors.Is) by errors evaluating a condition.
var ErrCondition = errors.New("policy: condition failed")

// costLimit bounds one condition's evaluation, so that a condition
// iterating a huge resource cannot stall a request.
const costLimit = 1_000_000

// Condition is a compiled CEL condition. A Condition is safe for
// concurrent use.
type Condition struct {
	src string
	prg cel.Program
}

// String returns the condition's source.
func (c *Condition) String() string { return c.src }

// Eval evaluates the condition over vars (RequestVars or ResourceVars). An
// error (a missing field, a type mismatch, the cost limit) is returned as
// such; callers treat it as "does not match".
func (c *Condition) Eval(vars any) (bool, error) {
	out, _, err := c.prg.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrCondition, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("%w: result is %T, not a bool", ErrCondition, out.Value())
	}
	return b, nil
}

// celEnvs are the two CEL environments: one over the request, one over a
// resource.
type celEnvs struct {
	request, resource *cel.Env
}

func newCELEnvs() (*celEnvs, error) {
	common := []cel.EnvOption{ext.Strings(), cel.Variable("now", cel.TimestampType)}
	req, err := cel.NewEnv(append(common,
		cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("requester", cel.MapType(cel.StringType, cel.DynType)),
	)...)
	if err != nil {
		return nil, fmt.Errorf("policy: CEL environment: %w", err)
	}
	res, err := cel.NewEnv(append(common,
		cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)),
	)...)
	if err != nil {
		return nil, fmt.Errorf("policy: CEL environment: %w", err)
	}
	return &celEnvs{request: req, resource: res}, nil
}

// compile compiles src to a boolean condition. Conditions over a resource
// are cost-limited (a resource may be large and comprehensions over it
// nest); conditions over the request are bounded by the request's size.
func compile(env *cel.Env, src string, limited bool) (*Condition, error) {
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, errors.New(strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("the condition yields %s, not a bool", t)
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if limited {
		opts = append(opts, cel.CostLimit(costLimit))
	}
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return nil, err
	}
	return &Condition{src: src, prg: prg}, nil
}

// CELNumbers converts the json.Number values of a decoded resource tree
// (fhir.Resource.Tree) in place to int64 when integral and float64
// otherwise, the numbers CEL compares.
func CELNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if n, ok := e.(json.Number); ok {
				x[k] = number(n)
			} else {
				CELNumbers(e)
			}
		}
	case []any:
		for i, e := range x {
			if n, ok := e.(json.Number); ok {
				x[i] = number(n)
			} else {
				CELNumbers(e)
			}
		}
	case json.Number:
		return number(x)
	}
	return v
}

func number(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}
