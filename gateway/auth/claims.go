package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
)

// maxPurposes bounds the purposes of use kept from one token.
const maxPurposes = 16

// claims is a token's claim set (a JWT payload or an introspection
// response), as decoded by encoding/json.
type claims map[string]any

// str returns a string claim, or "".
func (c claims) str(name string) string {
	s, _ := c[name].(string)
	return s
}

// path returns the claim at a dotted path ("a.b" is claim b of object a).
// A name that exists as a whole (with its dots) wins.
func (c claims) path(name string) (any, bool) {
	if v, ok := c[name]; ok {
		return v, true
	}
	var cur any = map[string]any(c)
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// scopes returns the scopes: the space-separated scope claim (RFC 8693,
// SMART), or a list in scope or scp.
func (c claims) scopes() []string {
	for _, name := range []string{"scope", "scp"} {
		switch v := c[name].(type) {
		case string:
			return strings.Fields(v)
		case []any:
			out := make([]string, 0, len(v))
			for _, e := range v {
				if s, ok := e.(string); ok && s != "" {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return nil
}

// clientID returns client_id (RFC 9068, RFC 7662), else azp.
func (c claims) clientID() string {
	if s := c.str("client_id"); s != "" {
		return s
	}
	return c.str("azp")
}

// requester builds the requester a claim set identifies. issuer is the
// verified issuer ("" to take the iss claim as it is); token is hashed
// when the claims have no jti.
func (a *Authenticator) requester(c claims, issuer string, verified bool, token string) decision.Requester {
	if issuer == "" {
		issuer = c.str("iss")
	}
	who := decision.Requester{
		Subject:   c.str("sub"),
		ClientID:  c.clientID(),
		Issuer:    issuer,
		Scopes:    c.scopes(),
		FHIRUser:  c.str("fhirUser"),
		Verified:  verified,
		TokenHash: tokenHash(c.str("jti"), token),
	}
	if p := c.str("patient"); fhir.ValidID(p) {
		who.Patient = p
	}
	who.Purpose = purposes(c, a.opts.PurposeClaims)
	who.Class = a.classify(&who, c)
	return who
}

// tokenHash is the hex SHA-256 of jti, or of the token when there is no
// jti: it links the records of one token without keeping it.
func tokenHash(jti, token string) string {
	s := jti
	if s == "" {
		s = token
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// purposes reads the purpose-of-use codes from the named claims: a string
// (codes separated by spaces or commas), a Coding or CodeableConcept, or a
// list of any of these.
func purposes(c claims, names []string) []string {
	var out []string
	var add func(v any)
	add = func(v any) {
		if len(out) >= maxPurposes {
			return
		}
		switch t := v.(type) {
		case string:
			for _, f := range strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == ',' }) {
				if !slices.Contains(out, f) && len(out) < maxPurposes {
					out = append(out, f)
				}
			}
		case []any:
			for _, e := range t {
				add(e)
			}
		case map[string]any:
			if cs, ok := t["coding"]; ok {
				add(cs)
			} else if code, ok := t["code"].(string); ok {
				add(code)
			}
		}
	}
	for _, n := range names {
		if v, ok := c.path(n); ok {
			add(v)
		}
	}
	return out
}

// classify returns the class of the first rule that matches, or the
// default class.
func (a *Authenticator) classify(who *decision.Requester, c claims) decision.Class {
	for i := range a.opts.Classes {
		if r := &a.opts.Classes[i]; ruleMatches(r, who, c) {
			return r.Class
		}
	}
	return a.opts.DefaultClass
}

func ruleMatches(r *ClassRule, who *decision.Requester, c claims) bool {
	if r.Issuer != "" && r.Issuer != who.Issuer {
		return false
	}
	if r.ClientID != "" && r.ClientID != who.ClientID {
		return false
	}
	for name, want := range r.Claims {
		v, ok := c.path(name)
		if !ok || !claimHolds(name, v, want) {
			return false
		}
	}
	return true
}

// claimHolds reports whether claim value v holds one of want.
func claimHolds(name string, v any, want []string) bool {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if claimHolds(name, e, want) {
				return true
			}
		}
		return false
	case string:
		if name == "scope" {
			for _, s := range strings.Fields(t) {
				if slices.Contains(want, s) {
					return true
				}
			}
			return false
		}
		return slices.Contains(want, t)
	case bool:
		return slices.Contains(want, strconv.FormatBool(t))
	case float64:
		return slices.Contains(want, strconv.FormatFloat(t, 'f', -1, 64))
	}
	return false
}
