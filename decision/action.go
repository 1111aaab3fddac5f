package decision

import "fmt"

// Action is what the gateway does with a request. The set is closed; policies
// may produce Allow, Redact, Throttle, Delay and Deny. Error is reserved for
// requests the gateway or the upstream could not serve.
type Action uint8

// The actions, in ascending order of precedence: when several policies match,
// the strongest action wins (deny > delay > throttle > redact > allow).
// Error outranks them all because it describes what actually happened.
const (
	Allow Action = iota
	Redact
	Throttle
	Delay
	Deny
	Error
)

var actionNames = [...]string{
	Allow:    "allow",
	Redact:   "redact",
	Throttle: "throttle",
	Delay:    "delay",
	Deny:     "deny",
	Error:    "error",
}

// String returns the action's record name, e.g. "deny".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Restricts reports whether the action restricts access to EHI in any way.
// Every restricting action must come from a documented policy.
func (a Action) Restricts() bool {
	return a == Redact || a == Throttle || a == Delay || a == Deny
}

// Stronger reports whether a takes precedence over b.
func (a Action) Stronger(b Action) bool { return a > b }

// Strongest returns the action with the highest precedence among as, or
// Allow when as is empty. It is the project's one precedence rule.
func Strongest(as ...Action) Action {
	s := Allow
	for _, a := range as {
		if a > s {
			s = a
		}
	}
	return s
}

// ParseAction parses an action name. Error is not accepted: no policy may
// produce it.
func ParseAction(s string) (Action, error) {
	for a, n := range actionNames {
		if n == s && Action(a) != Error {
			return Action(a), nil
		}
	}
	return 0, fmt.Errorf("decision: unknown action %q (want allow, redact, throttle, delay or deny)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts every action
// name, Error included, so that stored records round-trip.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("decision: unknown action %q", b)
}
