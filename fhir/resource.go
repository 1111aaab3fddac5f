package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotResource is returned when bytes are not a JSON object with a
// resourceType.
var ErrNotResource = errors.New("fhir: not a FHIR resource")

// ErrAmbiguousType is returned by ResetPrefix, wrapped with ErrNotResource,
// for an object that names its resourceType more than once: JSON readers
// differ on which one counts.
var ErrAmbiguousType = errors.New("fhir: resourceType given more than once")

// ErrIncomplete is returned by ResetPrefix, wrapped with ErrNotResource,
// when data ends inside the object and is valid as far as it goes: more
// bytes may complete it.
var ErrIncomplete = errors.New("fhir: incomplete JSON object")

// ResetPrefix's errors for data that does not start with a complete, valid
// object. A buffer ending inside one is common there, so they are not
// built each time.
var (
	errNoObject   = fmt.Errorf("%w: not a valid JSON object", ErrNotResource)
	errIncomplete = fmt.Errorf("%w: %w", ErrNotResource, ErrIncomplete)
)

// Coding is a system|code pair, as found in meta.security and meta.tag.
type Coding struct {
	System string `json:"system,omitempty"`
	Code   string `json:"code,omitempty"`
}

// String renders the coding as system|code.
func (c Coding) String() string { return c.System + "|" + c.Code }

// Resource is a read-only view of one resource's JSON bytes, as met in a
// response body or a request. It decodes lazily and only what is asked
// for, so that streaming filters stay cheap: the top-level members are
// indexed once (name and byte range, nothing copied) and a member is
// decoded only when asked for. Raw is not copied: a Resource is valid only
// while its bytes are, and the slices it returns alias Raw.
type Resource struct {
	// Type is resourceType.
	Type string
	// ID is Resource.id.
	ID string
	// Raw is the resource's exact JSON bytes.
	Raw []byte
	// Mode is the Bundle entry's search.mode (match, include, outcome) when
	// the resource came from a searchset entry.
	Mode string

	members []jsMember
	indexed bool
	err     error
	types   typeCache

	fields      map[string]json.RawMessage
	fieldsBuilt bool
	tree        map[string]any
	meta        meta
	metaDone    bool
}

// NewResource reads the type and id of raw and returns a view over it.
func NewResource(raw []byte) (*Resource, error) {
	r := &Resource{}
	if err := r.Reset(raw); err != nil {
		return nil, err
	}
	return r, nil
}

// Reset points the view at other bytes, keeping allocations for reuse. It
// validates raw as one JSON object and reads resourceType and id.
func (r *Resource) Reset(raw []byte) error {
	*r = Resource{Raw: raw, members: r.members[:0], fields: r.fields, types: r.types}
	clear(r.fields)
	if err := r.index(); err != nil {
		return err
	}
	return r.head()
}

// ResetValid is Reset for bytes already known to be exactly one valid JSON
// object (checked by a streaming parser, say): it indexes the top-level
// members without validating what is inside them, which costs a fraction
// of Reset. Given bytes that are not valid JSON it returns wrong members,
// never a panic.
func (r *Resource) ResetValid(raw []byte) error {
	*r = Resource{Raw: raw, members: r.members[:0], fields: r.fields, types: r.types}
	clear(r.fields)
	r.members = jsScanObjectValid(raw, r.members)
	r.indexed = true
	return r.head()
}

// ResetPrefix is Reset for bytes that start with a JSON object ('{' first)
// and may go on past it, such as a buffer in the middle of a stream: it
// validates the object in one pass, points the view at it and returns its
// length. depth is the number of arrays and objects the object is nested
// in, counted against the same nesting limit (10,000) as in a whole
// document.
//
// When data does not start with a complete, valid object within that
// limit, n is 0 and err wraps ErrNotResource, and ErrIncomplete too when
// data ends before the object does. Otherwise n is the object's length,
// and err is nil for a resource, ErrNotResource for an object without a
// resourceType, or ErrAmbiguousType (matching ErrNotResource too) for one
// with several.
func (r *Resource) ResetPrefix(data []byte, depth int) (n int, err error) {
	*r = Resource{members: r.members[:0], fields: r.fields, types: r.types, indexed: true}
	clear(r.fields)
	if len(data) == 0 || data[0] != '{' {
		r.err = errNoObject
		if len(data) == 0 {
			r.err = errIncomplete
		}
		return 0, r.err
	}
	members, end, fail := jsScanObjectAt(data, 0, r.members, depth)
	if fail.bad() {
		r.members = members[:0]
		r.err = errNoObject
		if fail.cut(len(data)) {
			r.err = errIncomplete
		}
		return 0, r.err
	}
	r.Raw, r.members = data[:end:end], members
	// One look at the names finds what head would look up.
	rt, id, seen := -1, -1, 0
	for i := range members {
		switch m := &members[i]; {
		case m.is(r.Raw, "resourceType"):
			rt = i
			seen++
		case m.is(r.Raw, "id"):
			id = i
		}
	}
	if seen > 1 {
		return end, fmt.Errorf("%w: %w", ErrNotResource, ErrAmbiguousType)
	}
	return end, r.headAt(rt, id)
}

// head reads resourceType and id from the indexed members.
func (r *Resource) head() error {
	rt, id := -1, -1
	for i := len(r.members) - 1; i >= 0 && (rt < 0 || id < 0); i-- {
		switch m := &r.members[i]; {
		case rt < 0 && m.is(r.Raw, "resourceType"):
			rt = i
		case id < 0 && m.is(r.Raw, "id"):
			id = i
		}
	}
	return r.headAt(rt, id)
}

// headAt reads resourceType and id from the members at those indexes (-1:
// absent).
func (r *Resource) headAt(rt, id int) error {
	if rt < 0 {
		return ErrNotResource
	}
	m := &r.members[rt]
	t, ok := r.types.decode(r.Raw[m.vs:m.ve])
	if !ok || t == "" {
		return ErrNotResource
	}
	r.Type = t
	if id >= 0 {
		m := &r.members[id]
		r.ID, _ = jsString(r.Raw[m.vs:m.ve], "")
	}
	return nil
}

// typeCache keeps the last few resource type names decoded, so that a
// Resource reused over a stream does not allocate a type name per resource.
type typeCache struct {
	names [8]string
	next  int
}

// decode decodes raw, a resourceType value, reusing a cached name.
func (c *typeCache) decode(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		body := raw[1 : len(raw)-1]
		for _, n := range c.names {
			if n != "" && string(body) == n {
				return n, true
			}
		}
	}
	t, ok := jsString(raw, "")
	if ok && t != "" {
		c.names[c.next] = t
		c.next = (c.next + 1) % len(c.names)
	}
	return t, ok
}

// index scans Raw's top-level members once.
func (r *Resource) index() error {
	if r.indexed {
		return r.err
	}
	r.indexed = true
	var err error
	if r.members, err = jsScanObject(r.Raw, r.members[:0]); err != nil {
		r.members = r.members[:0]
		r.err = fmt.Errorf("%w: %w", ErrNotResource, err)
	}
	return r.err
}

// Get returns the raw JSON bytes of the top-level member name (the last one
// when a name repeats, as encoding/json does). The bytes alias Raw and must
// not be modified.
func (r *Resource) Get(name string) ([]byte, bool) {
	if r.index() != nil {
		return nil, false
	}
	for i := len(r.members) - 1; i >= 0; i-- {
		m := &r.members[i]
		if m.is(r.Raw, name) {
			return r.Raw[m.vs:m.ve:m.ve], true
		}
	}
	return nil, false
}

// Fields returns the resource's top-level members, undecoded. The values
// alias Raw and must not be modified; the map is built on first use and
// kept until Reset.
func (r *Resource) Fields() (map[string]json.RawMessage, error) {
	if err := r.index(); err != nil {
		return nil, err
	}
	if r.fieldsBuilt {
		return r.fields, nil
	}
	if r.fields == nil {
		r.fields = make(map[string]json.RawMessage, len(r.members))
	}
	for i := range r.members {
		m := &r.members[i]
		r.fields[m.key(r.Raw)] = r.Raw[m.vs:m.ve:m.ve]
	}
	r.fieldsBuilt = true
	return r.fields, nil
}

// Tree decodes the whole resource once (for CEL conditions and element
// paths). Numbers are json.Number.
func (r *Resource) Tree() (map[string]any, error) {
	if r.tree != nil {
		return r.tree, nil
	}
	d := json.NewDecoder(bytes.NewReader(r.Raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, errors.Join(ErrNotResource, err)
	}
	r.tree = m
	return m, nil
}

// Member decodes one top-level member into v; it reports false when the
// member is absent or does not decode.
func (r *Resource) Member(name string, v any) bool {
	raw, ok := r.Get(name)
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

type meta struct {
	Security    []Coding `json:"security"`
	Tag         []Coding `json:"tag"`
	VersionID   string   `json:"versionId"`
	LastUpdated string   `json:"lastUpdated"`
}

// getMeta decodes meta once per Reset.
func (r *Resource) getMeta() *meta {
	if !r.metaDone {
		r.metaDone = true
		r.Member("meta", &r.meta) // a partly decodable meta keeps what decoded, as before
	}
	return &r.meta
}

// Security returns meta.security. The slice is shared by later calls until
// Reset and must not be modified.
func (r *Resource) Security() []Coding { return r.getMeta().Security }

// Tags returns meta.tag. The slice is shared by later calls until Reset and
// must not be modified.
func (r *Resource) Tags() []Coding { return r.getMeta().Tag }

// VersionID returns meta.versionId.
func (r *Resource) VersionID() string { return r.getMeta().VersionID }
