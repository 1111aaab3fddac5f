package consent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/fhir"
)

// maxDepth bounds the nesting of provisions.
const maxDepth = 16

// Skipped is a Consent that is valid but not in force (not active, or not
// a privacy consent), with why.
type Skipped struct {
	Source, Pointer, ID, Reason string
}

// Parsed is what one file (or fetched Bundle) held.
type Parsed struct {
	Consents []*Consent
	Skipped  []Skipped
	// Problems locate each invalid Consent: File is the source, Path a
	// JSON pointer. An invalid Consent does not load.
	Problems yamlx.Problems
}

// Parse reads the Consents in data, one Consent or a Bundle of them, read
// from source. A resource of another type is a problem when it is the
// whole of data, unless others is set (a folder may hold other JSON);
// other resources inside a Bundle are ignored.
func Parse(source string, data []byte, others bool) Parsed {
	var out Parsed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		out.Problems.Add(source, 0, "", "not JSON: %v", err)
		return out
	}
	if dec.More() {
		out.Problems.Add(source, 0, "", "more than one JSON value")
		return out
	}
	m, _ := v.(map[string]any)
	switch rt, _ := m["resourceType"].(string); rt {
	case "Consent":
		parseOne(&out, source, "", m, data)
	case "Bundle":
		es, _ := m["entry"].([]any)
		for i, e := range es {
			em, _ := e.(map[string]any)
			r, _ := em["resource"].(map[string]any)
			if t, _ := r["resourceType"].(string); t == "Consent" {
				raw, _ := json.Marshal(r)
				parseOne(&out, source, "/entry/"+strconv.Itoa(i)+"/resource", r, raw)
			}
		}
	default:
		if !others {
			out.Problems.Add(source, 0, "/resourceType", "want a Consent or a Bundle of Consents, got %q", rt)
		}
	}
	return out
}

// parser decodes one Consent, collecting its problems.
type parser struct {
	src  string
	base string
	ps   yamlx.Problems
}

func (p *parser) fail(ptr, format string, args ...any) {
	p.ps.Add(p.src, 0, p.base+ptr, format, args...)
}

func parseOne(out *Parsed, source, base string, m map[string]any, raw []byte) {
	p := &parser{src: source, base: base}
	sum := sha256.Sum256(raw)
	c := &Consent{Source: source, SHA256: hex.EncodeToString(sum[:])}
	c.ID = p.str(m, "", "id", true)
	if c.ID != "" && !fhir.ValidID(c.ID) {
		p.fail("/id", "not a valid FHIR id: %q", c.ID)
	}
	if meta, ok := p.obj(m, "", "meta", false); ok {
		c.VersionID = p.str(meta, "/meta", "versionId", false)
	}
	status := p.str(m, "", "status", true)
	switch status {
	case "", "active", "draft", "proposed", "rejected", "inactive", "entered-in-error":
	default:
		p.fail("/status", "want draft, proposed, active, rejected, inactive or entered-in-error, got %q", status)
	}
	scope := ""
	if sc, ok := p.obj(m, "", "scope", false); ok {
		for _, cd := range p.codings(sc, "/scope", "coding") {
			if cd.System == "http://terminology.hl7.org/CodeSystem/consentscope" || cd.System == "" {
				scope = cd.Code
			}
		}
	}
	if pat, ok := p.obj(m, "", "patient", true); ok {
		ref := p.str(pat, "/patient", "reference", true)
		if id, ok := fhir.PatientID(ref); ok {
			c.Patient = id
		} else if ref != "" {
			p.fail("/patient/reference", "want a reference to a Patient (Patient/<id>), got %q", ref)
		}
	}
	if s := p.str(m, "", "dateTime", false); s != "" {
		if t, _, err := fhirTime(s); err == nil {
			c.DateTime = t
		} else {
			p.fail("/dateTime", "%v", err)
		}
	} else {
		p.fail("/dateTime", "is required: when the patient's request was documented (45 CFR 171.202(e)(2))")
	}
	if pr, ok := p.obj(m, "", "policyRule", false); ok {
		for _, cd := range p.codings(pr, "/policyRule", "coding") {
			c.PolicyRule = cd.Code
		}
	}
	def := Permit
	if baseDenies[c.PolicyRule] {
		def = Deny
	}
	if pm, ok := p.obj(m, "", "provision", false); ok {
		c.Root = p.provision(pm, "/provision", 0, def, true)
	} else {
		c.Root = &Provision{Type: def}
	}
	if len(p.ps) > 0 {
		out.Problems = append(out.Problems, p.ps...)
		return
	}
	switch {
	case status != "active":
		out.Skipped = append(out.Skipped, Skipped{source, base, c.ID, "status " + status})
	case scope != "" && scope != "patient-privacy":
		out.Skipped = append(out.Skipped, Skipped{source, base, c.ID, "scope " + scope + ", not a privacy consent"})
	case !mayDeny(c.Root):
		out.Skipped = append(out.Skipped, Skipped{source, base, c.ID,
			"no provision denies anything (a root provision without a type takes the base of policyRule " + orNone(c.PolicyRule) +
				"); a request not to share needs a provision of type deny"})
	default:
		out.Consents = append(out.Consents, c)
	}
}

func (p *parser) provision(m map[string]any, ptr string, depth int, inherited Type, root bool) *Provision {
	pv := &Provision{Type: inherited}
	if !root {
		pv.Type = inherited.flip()
	}
	switch t := p.str(m, ptr, "type", false); t {
	case "":
	case "deny":
		pv.Type = Deny
	case "permit":
		pv.Type = Permit
	default:
		p.fail(ptr+"/type", "want deny or permit, got %q", t)
	}
	pv.Period = p.period(m, ptr, "period")
	pv.DataPeriod = p.period(m, ptr, "dataPeriod")
	for i, a := range p.arr(m, ptr, "actor") {
		ap := ptr + "/actor/" + strconv.Itoa(i)
		am, ok := a.(map[string]any)
		if !ok {
			p.fail(ap, "want an object")
			continue
		}
		var act Actor
		if role, ok := p.obj(am, ap, "role", true); ok {
			for _, cd := range p.codings(role, ap+"/role", "coding") {
				act.Role = cd.Code
			}
			if act.Role == "" {
				p.fail(ap+"/role", "needs a coding with a code (e.g. v3-ParticipationType PRCP)")
			}
		}
		if ref, ok := p.obj(am, ap, "reference", true); ok {
			act.Reference = p.str(ref, ap+"/reference", "reference", false)
			if id, ok := p.obj(ref, ap+"/reference", "identifier", false); ok {
				act.System = p.str(id, ap+"/reference/identifier", "system", false)
				act.Value = p.str(id, ap+"/reference/identifier", "value", false)
			}
			switch {
			case act.Reference == "" && act.Value == "":
				p.fail(ap+"/reference", "needs a reference or an identifier")
			case act.Reference != "" && !validRef(act.Reference):
				p.fail(ap+"/reference/reference", "want a reference such as Organization/123, got %q", act.Reference)
			}
			act.Reference = relRef(act.Reference)
		}
		if sourceRoles[act.Role] {
			pv.Sources = append(pv.Sources, act)
		} else {
			pv.Recipients = append(pv.Recipients, act)
		}
	}
	for i, a := range p.arr(m, ptr, "action") {
		ap := ptr + "/action/" + strconv.Itoa(i)
		am, ok := a.(map[string]any)
		if !ok {
			p.fail(ap, "want an object")
			continue
		}
		for _, cd := range p.codings(am, ap, "coding") {
			if cd.System != "" && cd.System != SystemConsentAction {
				continue
			}
			if !slices.Contains([]string{"collect", "access", "use", "disclose", "correct"}, cd.Code) {
				p.fail(ap+"/coding", "want collect, access, use, disclose or correct, got %q", cd.Code)
				continue
			}
			pv.Actions = append(pv.Actions, cd.Code)
		}
	}
	pv.SecurityLabels = p.codings(m, ptr, "securityLabel")
	pv.Purposes = p.codings(m, ptr, "purpose")
	pv.Classes = p.codings(m, ptr, "class")
	for i, c := range pv.Classes {
		switch {
		case c.System == SystemResourceTypes:
			if !fhir.IsResourceType(c.Code) {
				p.fail(fmt.Sprintf("%s/class/%d/code", ptr, i), "not an R4 resource type: %q", c.Code)
			}
		case c.System == SystemMediaType, c.System == SystemURI,
			strings.HasPrefix(c.Code, "http://"), strings.HasPrefix(c.Code, "https://"):
		default:
			p.fail(fmt.Sprintf("%s/class/%d/system", ptr, i), "unsupported class system %q: want %s (resource type), %s (media type) or a profile URL",
				c.System, SystemResourceTypes, SystemMediaType)
		}
	}
	for i, cc := range p.arr(m, ptr, "code") {
		cm, ok := cc.(map[string]any)
		if !ok {
			p.fail(fmt.Sprintf("%s/code/%d", ptr, i), "want a CodeableConcept")
			continue
		}
		pv.Codes = append(pv.Codes, p.codings(cm, fmt.Sprintf("%s/code/%d", ptr, i), "coding")...)
	}
	for i, d := range p.arr(m, ptr, "data") {
		dp := ptr + "/data/" + strconv.Itoa(i)
		dm, ok := d.(map[string]any)
		if !ok {
			p.fail(dp, "want an object")
			continue
		}
		var dd Data
		dd.Meaning = p.str(dm, dp, "meaning", true)
		if dd.Meaning != "" && !slices.Contains([]string{"instance", "related", "dependents", "authoredby"}, dd.Meaning) {
			p.fail(dp+"/meaning", "want instance, related, dependents or authoredby, got %q", dd.Meaning)
		}
		if ref, ok := p.obj(dm, dp, "reference", true); ok {
			dd.Reference = p.str(ref, dp+"/reference", "reference", true)
			if dd.Reference != "" && !validRef(dd.Reference) {
				p.fail(dp+"/reference/reference", "want a reference such as Observation/123, got %q", dd.Reference)
			}
			dd.Reference = relRef(dd.Reference)
		}
		pv.Data = append(pv.Data, dd)
	}
	nested := p.arr(m, ptr, "provision")
	if len(nested) > 0 && depth+1 >= maxDepth {
		p.fail(ptr+"/provision", "provisions nested deeper than %d", maxDepth)
		return pv
	}
	for i, n := range nested {
		np := ptr + "/provision/" + strconv.Itoa(i)
		nm, ok := n.(map[string]any)
		if !ok {
			p.fail(np, "want an object")
			continue
		}
		pv.Provisions = append(pv.Provisions, p.provision(nm, np, depth+1, pv.Type, false))
	}
	return pv
}

// str reads a string member; required members must be present.
func (p *parser) str(m map[string]any, ptr, key string, required bool) string {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			p.fail(ptr+"/"+key, "is required")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.fail(ptr+"/"+key, "want a string")
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		p.fail(ptr+"/"+key, "must not be empty")
	}
	return s
}

func (p *parser) obj(m map[string]any, ptr, key string, required bool) (map[string]any, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			p.fail(ptr+"/"+key, "is required")
		}
		return nil, false
	}
	o, ok := v.(map[string]any)
	if !ok {
		p.fail(ptr+"/"+key, "want an object")
		return nil, false
	}
	return o, true
}

func (p *parser) arr(m map[string]any, ptr, key string) []any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		p.fail(ptr+"/"+key, "want an array")
		return nil
	}
	return a
}

// codings reads the Coding array m[key].
func (p *parser) codings(m map[string]any, ptr, key string) []fhir.Coding {
	var out []fhir.Coding
	for i, c := range p.arr(m, ptr, key) {
		cp := ptr + "/" + key + "/" + strconv.Itoa(i)
		cm, ok := c.(map[string]any)
		if !ok {
			p.fail(cp, "want a Coding")
			continue
		}
		cd := fhir.Coding{System: p.str(cm, cp, "system", false), Code: p.str(cm, cp, "code", true)}
		if cd.Code != "" {
			out = append(out, cd)
		}
	}
	return out
}

func (p *parser) period(m map[string]any, ptr, key string) Period {
	pm, ok := p.obj(m, ptr, key, false)
	if !ok {
		return Period{}
	}
	var per Period
	if s := p.str(pm, ptr+"/"+key, "start", false); s != "" {
		t, _, err := fhirTime(s)
		if err != nil {
			p.fail(ptr+"/"+key+"/start", "%v", err)
		}
		per.Start = t
	}
	if s := p.str(pm, ptr+"/"+key, "end", false); s != "" {
		t, prec, err := fhirTime(s)
		if err != nil {
			p.fail(ptr+"/"+key+"/end", "%v", err)
		}
		// A date end covers its whole day (month, year).
		per.End = t.Add(prec - time.Nanosecond)
	}
	if !per.Start.IsZero() && !per.End.IsZero() && per.End.Before(per.Start) {
		p.fail(ptr+"/"+key, "ends before it starts")
	}
	return per
}

// fhirTime parses a FHIR date, dateTime or instant; prec is the length of
// the period the value stands for (a day for a date, 0 for a time).
func fhirTime(s string) (time.Time, time.Duration, error) {
	for _, l := range []struct {
		layout string
		prec   time.Duration
	}{{time.RFC3339Nano, 0}, {"2006-01-02T15:04:05", 0}, {"2006-01-02", 24 * time.Hour}} {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, max(l.prec, 1), nil
		}
	}
	if t, err := time.Parse("2006-01", s); err == nil {
		return t, t.AddDate(0, 1, 0).Sub(t), nil
	}
	if t, err := time.Parse("2006", s); err == nil && len(s) == 4 {
		return t, t.AddDate(1, 0, 0).Sub(t), nil
	}
	return time.Time{}, 0, fmt.Errorf("want a FHIR date or dateTime, got %q", s)
}

// validRef reports whether ref is Type/id (optionally absolute or with
// _history).
func validRef(ref string) bool {
	r := relRef(ref)
	typ, id, ok := strings.Cut(r, "/")
	return ok && fhir.IsResourceType(typ) && fhir.ValidID(id)
}

// relRef returns the Type/id at the end of a reference.
func relRef(ref string) string {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return ref
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

// mayDeny reports whether any provision of the tree denies.
func mayDeny(p *Provision) bool {
	found := false
	denyPaths(p, nil, func([]Actor) { found = true })
	return found
}

func orNone(s string) string {
	if s == "" {
		return "(none: permit)"
	}
	return s
}
