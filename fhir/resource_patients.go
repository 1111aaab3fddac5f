package fhir

import (
	"strings"
)

// Patients returns the ids of the Patients whose compartment the resource
// is in, following the R4 Patient CompartmentDefinition (a Patient is in
// its own compartment), sorted and unique.
func (r *Resource) Patients() []string { return r.PatientsWith(nil) }

// PatientsWith is Patients with a resolver for references that do not
// name a Patient by type and id themselves, such as the urn:uuid: fullUrls
// of a Bundle's entries: resolve returns the Patient id a reference stands
// for, and false when it does not stand for a Patient. A nil resolve
// resolves nothing.
func (r *Resource) PatientsWith(resolve func(ref string) (string, bool)) []string {
	var out []string
	if r.Type == "Patient" && ValidID(r.ID) {
		out = append(out, r.ID)
	}
	r.compartmentRefs(func(ref string) {
		if id, ok := PatientID(ref); ok {
			out = append(out, id)
		} else if resolve != nil {
			if id, ok := resolve(ref); ok && ValidID(id) {
				out = append(out, id)
			}
		}
	})
	return sortUnique(out)
}

// compartmentRefs calls fn with every reference found at the resource's
// Patient compartment paths, reading the raw bytes of just those members.
func (r *Resource) compartmentRefs(fn func(ref string)) {
	for _, p := range CompartmentParams(r.Type) {
		for _, path := range p.Paths {
			head, rest, _ := strings.Cut(path, ".")
			if raw, ok := r.Get(head); ok {
				walkRawRefs(raw, rest, fn)
			}
		}
	}
}

// walkRawRefs calls fn with every Reference.reference found at the dotted
// path below the JSON value data (arrays are walked transparently),
// without decoding anything else.
func walkRawRefs(data []byte, path string, fn func(string)) {
	i := jsSpace(data, 0)
	if i >= len(data) {
		return
	}
	switch data[i] {
	case '[':
		for i = jsSpace(data, i+1); i < len(data) && data[i] != ']'; {
			end, err := jsSkipValue(data, i, 1)
			if err != nil {
				return
			}
			walkRawRefs(data[i:end], path, fn)
			if i = jsSpace(data, end); i < len(data) && data[i] == ',' {
				i = jsSpace(data, i+1)
			}
		}
	case '{':
		obj := data[i:]
		name, rest := "reference", ""
		if path != "" {
			name, rest, _ = strings.Cut(path, ".")
		}
		var buf [16]jsMember
		ms, err := jsScanObject(obj, buf[:0])
		if err != nil {
			return
		}
		for k := range ms {
			if !ms[k].is(obj, name) {
				continue
			}
			v := obj[ms[k].vs:ms[k].ve]
			if path == "" {
				if s, ok := jsString(v, ""); ok {
					fn(s)
				}
			} else {
				walkRawRefs(v, rest, fn)
			}
		}
	}
}

// walkStrings calls fn with every string anywhere below v, for bodies
// (patches, operation parameters) whose reference paths are not known.
func walkStrings(v any, fn func(string)) {
	switch t := v.(type) {
	case string:
		fn(t)
	case []any:
		for _, e := range t {
			walkStrings(e, fn)
		}
	case map[string]any:
		for _, c := range t {
			walkStrings(c, fn)
		}
	}
}

// PatientID returns the id of a reference to a Patient: "Patient/1",
// "Patient/1/_history/2" or an absolute URL ending so. Contained ("#x") and
// urn:uuid references are not resolved here.
func PatientID(ref string) (string, bool) {
	ref, _, _ = strings.Cut(ref, "?")
	ref, _, _ = strings.Cut(ref, "#")
	// Walk the last segments from the end without splitting: the id is
	// the segment after the last "Patient" that ends the reference or is
	// followed by _history/vid.
	segs := lastSegments(ref)
	switch {
	case segs.n >= 2 && segs.s[1] == "Patient" && ValidID(segs.s[0]):
		return segs.s[0], true
	case segs.n >= 4 && segs.s[3] == "Patient" && ValidID(segs.s[2]) && segs.s[1] == "_history" && ValidID(segs.s[0]):
		return segs.s[2], true
	}
	return "", false
}

// lastSegments returns up to the last four "/"-separated segments of s,
// last first.
func lastSegments(s string) (segs struct {
	n int
	s [4]string
}) {
	for segs.n < 4 {
		i := strings.LastIndexByte(s, '/')
		segs.s[segs.n] = s[i+1:]
		segs.n++
		if i < 0 {
			break
		}
		s = s[:i]
	}
	return segs
}

// ValidID reports whether s is a valid FHIR logical id ([A-Za-z0-9\-\.]{1,64}).
// "." and "..", which a URL path cannot carry as a segment, are not.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
