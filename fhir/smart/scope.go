package smart

import (
	"errors"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// Errors of scope parsing, matched with errors.Is.
var (
	// ErrNotResourceScope: the scope is valid but grants no access to
	// resources (openid, fhirUser, launch, launch/patient, offline_access,
	// online_access, profile, and extension scopes).
	ErrNotResourceScope = errors.New("smart: not a resource scope")
	// ErrInvalidScope: the scope looks like a resource scope but does not
	// follow the grammar (unknown context or type, permissions out of
	// order, a malformed constraint).
	ErrInvalidScope = errors.New("smart: invalid scope")
)

// maxScopeLen bounds one scope string; longer ones are invalid.
const maxScopeLen = 1024

// uriPrefix is the URI form of resource scopes.
const uriPrefix = "http://smarthealthit.org/fhir/scopes/"

// Context is the access context of a resource scope.
type Context uint8

// The contexts.
const (
	// ContextPatient scopes reach the launch patient's compartment only.
	ContextPatient Context = iota + 1
	// ContextUser scopes reach what the user may see.
	ContextUser
	// ContextSystem scopes are granted to a backend client.
	ContextSystem
)

// String returns the context's scope prefix without the slash.
func (c Context) String() string {
	switch c {
	case ContextPatient:
		return "patient"
	case ContextUser:
		return "user"
	case ContextSystem:
		return "system"
	}
	return ""
}

func parseContext(s string) (Context, bool) {
	switch s {
	case "patient":
		return ContextPatient, true
	case "user":
		return ContextUser, true
	case "system":
		return ContextSystem, true
	}
	return 0, false
}

// Perm is a set of SMART v2 permissions.
type Perm uint8

// The permissions, in the order of the v2 grammar ("cruds").
const (
	// Create is c: create.
	Create Perm = 1 << iota
	// Read is r: read, vread and instance history.
	Read
	// Update is u: update and patch.
	Update
	// Delete is d: delete.
	Delete
	// Search is s: search, type and system history.
	Search
)

// AllPerms is "cruds".
const AllPerms = Create | Read | Update | Delete | Search

const permLetters = "cruds"

// String renders the permissions in v2 form, e.g. "rs".
func (p Perm) String() string {
	var b [5]byte
	n := 0
	for i := range len(permLetters) {
		if p&(1<<i) != 0 {
			b[n] = permLetters[i]
			n++
		}
	}
	return string(b[:n])
}

// Has reports whether p includes every permission of q.
func (p Perm) Has(q Perm) bool { return p&q == q }

// parsePerms parses the part after the dot: v2 letters in "cruds" order,
// or the v1 words read, write and *.
func parsePerms(s string) (p Perm, v1 bool, ok bool) {
	switch s {
	case "read":
		return Read | Search, true, true
	case "write":
		return Create | Update | Delete, true, true
	case "*":
		return AllPerms, true, true
	case "":
		return 0, false, false
	}
	next := 0
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(permLetters[next:], s[i])
		if j < 0 {
			return 0, false, false // unknown letter, repeated or out of order
		}
		next += j
		p |= 1 << next
		next++
	}
	return p, false, true
}

// Constraint is one granular ?param=value of a v2 scope. A resource meets
// it when the parameter's element holds one of Values.
type Constraint struct {
	// Param is the search parameter name, e.g. "category".
	Param string
	// Values are the alternatives (comma-separated in the scope), as
	// token values: "system|code", "code", "system|" or "|code".
	Values []string
}

// Scope is one parsed resource scope.
type Scope struct {
	// Context is patient, user or system.
	Context Context
	// Type is a resource type, or "*" for every type.
	Type string
	// Perms are the permissions granted (v1 forms normalised to v2).
	Perms Perm
	// Constraints are the granular ?param=value parts, all of which a
	// resource must meet.
	Constraints []Constraint
	// V1 is set when the scope used the v1 form (read, write, *).
	V1 bool
}

// String renders the scope in normalised v2 form, e.g.
// "patient/Observation.rs?category=laboratory".
func (s Scope) String() string {
	var b strings.Builder
	b.WriteString(s.Context.String())
	b.WriteByte('/')
	b.WriteString(s.Type)
	b.WriteByte('.')
	b.WriteString(s.Perms.String())
	for i, c := range s.Constraints {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(escapeKey(c.Param))
		b.WriteByte('=')
		for j, v := range c.Values {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(escapeValue(v))
		}
	}
	return b.String()
}

// escapeValue escapes what the query grammar would otherwise read as a
// separator: FHIR escapes for "," and "\", percent-encoding for "&", "%"
// and characters that cannot appear in a scope.
func escapeValue(v string) string {
	if !strings.ContainsAny(v, ",\\&%+ =#\t\n\r") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ',', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '&', '%', '+', ' ', '=', '#', '\t', '\n', '\r':
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escapeKey percent-encodes what would end or split a parameter name.
func escapeKey(k string) string {
	if !strings.ContainsAny(k, "&=%+ #\t\n\r") {
		return k
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch c := k[i]; c {
		case '&', '=', '%', '+', ' ', '#', '\t', '\n', '\r':
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Covers reports whether the scope is about resource type t.
func (s *Scope) Covers(t string) bool { return s.Type == "*" || s.Type == t }

// ParseScope parses one scope. It returns ErrNotResourceScope for valid
// scopes that grant no resource access and ErrInvalidScope for malformed
// resource scopes; neither error carries the scope text.
func ParseScope(s string) (Scope, error) {
	if len(s) > maxScopeLen {
		return Scope{}, ErrInvalidScope
	}
	s = strings.TrimPrefix(s, uriPrefix)
	head, query, hasQuery := strings.Cut(s, "?")
	ctxName, rest, ok := strings.Cut(head, "/")
	if !ok {
		return Scope{}, ErrNotResourceScope // openid, fhirUser, offline_access, __x, ...
	}
	c, ok := parseContext(ctxName)
	if !ok {
		return Scope{}, ErrNotResourceScope // launch/patient, a URI of another kind, ...
	}
	typ, perms, ok := strings.Cut(rest, ".")
	if !ok || (typ != "*" && !fhir.IsResourceType(typ)) {
		return Scope{}, ErrInvalidScope
	}
	p, v1, ok := parsePerms(perms)
	if !ok {
		return Scope{}, ErrInvalidScope
	}
	sc := Scope{Context: c, Type: typ, Perms: p, V1: v1}
	if hasQuery {
		if v1 || query == "" {
			return Scope{}, ErrInvalidScope
		}
		params, err := fhir.ParseParams(query)
		if err != nil || len(params) == 0 {
			return Scope{}, ErrInvalidScope
		}
		sc.Constraints = make([]Constraint, len(params))
		for i, pr := range params {
			if pr.Key == "" || len(pr.Values) == 0 || slicesHasEmpty(pr.Values) {
				return Scope{}, ErrInvalidScope
			}
			sc.Constraints[i] = Constraint{Param: pr.Key, Values: pr.Values}
		}
	}
	return sc, nil
}

func slicesHasEmpty(vs []string) bool {
	for _, v := range vs {
		if v == "" {
			return true
		}
	}
	return false
}

// ParseScopes parses the scopes of a token (each element one scope, as
// split from the space-separated scope claim). Resource scopes are
// returned; others, valid or not, are skipped (invalid counts the
// malformed resource scopes, which grant nothing).
func ParseScopes(scopes []string) (out []Scope, invalid int) {
	for _, s := range scopes {
		sc, err := ParseScope(s)
		switch {
		case err == nil:
			out = append(out, sc)
		case errors.Is(err, ErrInvalidScope):
			invalid++
		}
	}
	return out, invalid
}
