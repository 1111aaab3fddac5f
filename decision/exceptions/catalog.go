package exceptions

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/decision"
)

//go:embed catalog.yaml
var catalogYAML []byte

// Source returns the embedded catalog file, as shipped.
func Source() []byte { return append([]byte(nil), catalogYAML...) }

// ErrUnknown is matched (errors.Is) by Lookup errors for codes the catalog
// does not have.
var ErrUnknown = errors.New("exceptions: unknown exception code")

// Kinds of entries.
const (
	KindException    = "exception"
	KindNotException = "not-exception"
)

// Statuses of entries.
const (
	StatusInForce = "in_force"
	// StatusAtRisk: a proposed rule would remove or limit it.
	StatusAtRisk = "at_risk"
	// StatusWatch: a proposed rule would revise it.
	StatusWatch = "watch"
)

// Documentation field types.
const (
	FieldText = "text"
	FieldDate = "date"
	FieldEnum = "enum"
	FieldList = "list"
)

// Deadline bases.
const (
	BusinessDays = "business_days"
	CalendarDays = "calendar_days"
)

// Catalog is the exception catalog. It is read-only once loaded.
type Catalog struct {
	ID string `yaml:"id"`
	// Revision is the catalog version (see Version).
	Revision string  `yaml:"version"`
	AsOf     string  `yaml:"as_of"`
	ECFR     string  `yaml:"ecfr"`
	Rules    []Rule  `yaml:"rules"`
	Entries  []Entry `yaml:"entries"`

	index map[string]*Entry
	all   []*Entry
}

// Rule is a rulemaking the catalog takes into account.
type Rule struct {
	Name      string `yaml:"name"`
	Cite      string `yaml:"cite"`
	Date      string `yaml:"date"`
	Effective string `yaml:"effective"`
	Status    string `yaml:"status"`
	Note      string `yaml:"note"`
}

// Entry is an exception, one of its sub-conditions, or a code for a
// restriction that needs no exception.
type Entry struct {
	// Code is what policies cite, e.g. "infeasibility.segmentation".
	Code string `yaml:"code"`
	// Aliases are other codes accepted for this entry.
	Aliases []string `yaml:"aliases"`
	// Kind is KindException or KindNotException; sub-conditions inherit it.
	Kind string `yaml:"kind"`
	// CFR is the paragraph, e.g. "45 CFR 171.204(a)(2)".
	CFR     string `yaml:"cfr"`
	Title   string `yaml:"title"`
	Subpart string `yaml:"subpart"`
	// Status is StatusInForce, StatusAtRisk or StatusWatch; sub-conditions
	// inherit their exception's unless they set their own.
	Status       string   `yaml:"status"`
	Effective    string   `yaml:"effective"`
	Verification string   `yaml:"verification"`
	Structure    string   `yaml:"structure"`
	Amended      []string `yaml:"amended"`
	AppliesTo    []string `yaml:"applies_to"`
	Note         string   `yaml:"note"`
	Guidance     string   `yaml:"guidance"`
	// Conditions are the regulatory conditions, for people reading the
	// catalog.
	Conditions []Condition `yaml:"conditions"`
	// Documentation lists the fields a policy claiming this entry must
	// document (in documentation.conditions); a sub-condition adds to its
	// exception's, replacing fields of the same name.
	Documentation []Field `yaml:"documentation"`
	// LicensedProfessional means the decider must be a licensed health
	// care professional: the policy must state their credentials.
	LicensedProfessional bool `yaml:"licensed_professional"`
	// Notice is the duty to tell the requester (or individual).
	Notice *Notice `yaml:"notice"`
	// CitableFlag false marks an entry that routes to another exception
	// (named by Redirect) and cannot be cited itself.
	CitableFlag *bool  `yaml:"citable"`
	Redirect    string `yaml:"redirect"`
	// Subcodes are the sub-conditions; an exception that has them must be
	// cited through one of them.
	Subcodes []Entry `yaml:"subcodes"`

	parent *Entry
}

// Condition is one regulatory condition.
type Condition struct {
	CFR          string `yaml:"cfr"`
	Text         string `yaml:"text"`
	Verification string `yaml:"verification"`
}

// Field is a documentation field a claim requires.
type Field struct {
	Name string `yaml:"name"`
	// Type is FieldText (default), FieldDate, FieldEnum or FieldList.
	Type string `yaml:"type"`
	// Values are the allowed values of an enum.
	Values []string `yaml:"values"`
	// Min is the least number of items of a list (default 1).
	Min int `yaml:"min"`
	// Optional fields may be given but are not required.
	Optional bool   `yaml:"optional"`
	Text     string `yaml:"text"`
}

// Notice is a duty to tell the requester.
type Notice struct {
	// Duty says what must be told, in plain language.
	Duty string `yaml:"duty"`
	CFR  string `yaml:"cfr"`
	// Deadline, when set, makes a decision relying on the entry open a
	// notice item due that many days after receipt of the request.
	Deadline     *Deadline `yaml:"deadline"`
	Verification string    `yaml:"verification"`
	Note         string    `yaml:"note"`
}

// Deadline is a time limit counted from receipt of the request.
type Deadline struct {
	Days int `yaml:"days"`
	// Basis is BusinessDays (US federal holidays excluded) or CalendarDays.
	Basis string `yaml:"basis"`
}

// String renders the deadline, e.g. "10 business days".
func (d Deadline) String() string {
	return fmt.Sprintf("%d %s", d.Days, strings.ReplaceAll(d.Basis, "_", " "))
}

// Load returns the embedded catalog.
func Load() (*Catalog, error) { return Parse("catalog.yaml", catalogYAML) }

// Parse decodes and checks a catalog file.
func Parse(name string, data []byte) (*Catalog, error) {
	c := &Catalog{}
	doc, ps := yamlx.Decode(name, data, c)
	ps = append(ps, c.build(doc)...)
	if err := ps.Err(); err != nil {
		return nil, fmt.Errorf("exceptions: %w", err)
	}
	return c, nil
}

// build indexes the entries and checks them.
func (c *Catalog) build(doc *yamlx.Doc) yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { doc.Add(&ps, path, format, args...) }
	if c.ID == "" {
		add("id", "is required")
	}
	if c.Revision == "" {
		add("version", "is required")
	}
	c.index = map[string]*Entry{}
	var walk func(es []Entry, parent *Entry, path string)
	walk = func(es []Entry, parent *Entry, path string) {
		for i := range es {
			e := &es[i]
			p := fmt.Sprintf("%s[%d]", path, i)
			e.parent = parent
			if parent != nil {
				if e.Kind == "" {
					e.Kind = parent.Kind
				}
				if !strings.HasPrefix(e.Code, parent.Code+".") {
					add(p+".code", "a sub-condition's code must start with %q", parent.Code+".")
				}
			}
			if e.Code == "" {
				add(p+".code", "is required")
			}
			for _, code := range append([]string{e.Code}, e.Aliases...) {
				if _, dup := c.index[code]; dup {
					add(p+".code", "code %q appears twice", code)
				}
				c.index[code] = e
			}
			if e.Kind != KindException && e.Kind != KindNotException {
				add(p+".kind", "want %s or %s, got %q", KindException, KindNotException, e.Kind)
			}
			if e.CFR == "" {
				add(p+".cfr", "is required")
			}
			if e.Status != "" && e.Status != StatusInForce && e.Status != StatusAtRisk && e.Status != StatusWatch {
				add(p+".status", "want in_force, at_risk or watch, got %q", e.Status)
			}
			if parent == nil && e.Status == "" && e.Kind == KindException {
				add(p+".status", "is required")
			}
			if e.Redirect != "" && e.Citable() {
				add(p+".redirect", "only for entries with citable: false")
			}
			for j, f := range e.Documentation {
				fp := fmt.Sprintf("%s.documentation[%d]", p, j)
				switch f.Type {
				case "", FieldText, FieldDate, FieldList:
				case FieldEnum:
					if len(f.Values) == 0 {
						add(fp+".values", "an enum needs values")
					}
				default:
					add(fp+".type", "want text, date, enum or list, got %q", f.Type)
				}
				if f.Name == "" || f.Text == "" {
					add(fp, "name and text are required")
				}
			}
			if n := e.Notice; n != nil && n.Deadline != nil {
				if n.Deadline.Days <= 0 || (n.Deadline.Basis != BusinessDays && n.Deadline.Basis != CalendarDays) {
					add(p+".notice.deadline", "want days > 0 and basis business_days or calendar_days")
				}
			}
			c.all = append(c.all, e)
			walk(e.Subcodes, e, p+".subcodes")
		}
	}
	walk(c.Entries, nil, "entries")
	for _, e := range c.all {
		if e.Redirect != "" {
			if _, ok := c.index[e.Redirect]; !ok {
				add("entries", "%s: redirect %q is not in the catalog", e.Code, e.Redirect)
			}
		}
	}
	return ps
}

// Version returns the catalog version recorded with every decision.
func (c *Catalog) Version() string { return c.Revision }

// All returns every entry, exceptions followed by their sub-conditions,
// in catalog order.
func (c *Catalog) All() []*Entry { return c.all }

// Lookup returns the entry for code (or one of its aliases).
func (c *Catalog) Lookup(code string) (*Entry, error) {
	if e, ok := c.index[code]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknown, code)
}

// Parent returns the exception a sub-condition belongs to, or nil.
func (e *Entry) Parent() *Entry { return e.parent }

// Citable reports whether a policy may cite the entry itself: it has no
// sub-conditions and does not route to another exception.
func (e *Entry) Citable() bool {
	return len(e.Subcodes) == 0 && (e.CitableFlag == nil || *e.CitableFlag)
}

// EffectiveStatus returns the entry's status, or its exception's.
func (e *Entry) EffectiveStatus() string {
	for x := e; x != nil; x = x.parent {
		if x.Status != "" {
			return x.Status
		}
	}
	return StatusInForce
}

// Duty returns the notice duty that applies: the entry's, or its
// exception's.
func (e *Entry) Duty() *Notice {
	for x := e; x != nil; x = x.parent {
		if x.Notice != nil {
			return x.Notice
		}
	}
	return nil
}

// Fields returns the documentation fields a claim of the entry requires or
// allows: its exception's followed by its own, an own field replacing an
// inherited one of the same name.
func (e *Entry) Fields() []Field {
	var chain []*Entry
	for x := e; x != nil; x = x.parent {
		chain = append(chain, x)
	}
	var out []Field
	for i := len(chain) - 1; i >= 0; i-- {
		for _, f := range chain[i].Documentation {
			if f.Type == "" {
				f.Type = FieldText
			}
			replaced := false
			for k := range out {
				if out[k].Name == f.Name {
					out[k], replaced = f, true
				}
			}
			if !replaced {
				out = append(out, f)
			}
		}
	}
	return out
}

// Ref returns the record's reference to the entry under catalog c.
func (c *Catalog) Ref(e *Entry) *decision.ExceptionRef {
	return &decision.ExceptionRef{Code: e.Code, CFR: e.CFR, CatalogVersion: c.Revision}
}
