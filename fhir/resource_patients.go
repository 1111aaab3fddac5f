package fhir

import (
	"bytes"
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
	r.rawCompartmentRefs(func(ref []byte) {
		if id, ok := patientID(ref); ok {
			out = append(out, string(id))
		} else if resolve != nil {
			if id, ok := resolve(string(ref)); ok && ValidID(id) {
				out = append(out, id)
			}
		}
	})
	return sortUnique(out)
}

// EachPatient calls fn with the id of every Patient whose compartment the
// resource is in, as Patients finds them (no resolver) but in the order
// met and possibly more than once. It allocates nothing for ids written
// without escapes: id aliases Raw and is valid only during the call.
func (r *Resource) EachPatient(fn func(id []byte)) {
	if r.Type == "Patient" && ValidID(r.ID) {
		v, _ := r.Get("id")
		if len(v) == len(r.ID)+2 && string(v[1:len(v)-1]) == r.ID {
			fn(v[1 : len(v)-1])
		} else {
			fn([]byte(r.ID))
		}
	}
	r.rawCompartmentRefs(func(ref []byte) {
		if !bytes.Contains(ref, []byte("Patient")) {
			return // most references, such as urn:uuid: ones, at a glance
		}
		if id, ok := patientID(ref); ok {
			fn(id)
		}
	})
}

// compartmentRefs calls fn with every reference found at the resource's
// Patient compartment paths, reading the raw bytes of just those members.
func (r *Resource) compartmentRefs(fn func(ref string)) {
	r.rawCompartmentRefs(func(ref []byte) { fn(string(ref)) })
}

// rawCompartmentRefs is compartmentRefs without copying: ref is the
// decoded reference, aliasing Raw when written without escapes, and valid
// only during the call.
func (r *Resource) rawCompartmentRefs(fn func(ref []byte)) {
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
func walkRawRefs(data []byte, path string, fn func(ref []byte)) {
	i := jsSpace(data, 0)
	if i >= len(data) {
		return
	}
	switch data[i] {
	case '[':
		for i = jsSpace(data, i+1); i < len(data) && data[i] != ']'; {
			end, fail := jsSkipValue(data, i, 1)
			if fail.bad() {
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
			if path != "" {
				walkRawRefs(v, rest, fn)
			} else if len(v) >= 2 && v[0] == '"' && jsPlain(v[1:len(v)-1]) {
				fn(v[1 : len(v)-1])
			} else if s, ok := jsString(v, ""); ok {
				fn([]byte(s))
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
func PatientID(ref string) (string, bool) { return patientID(ref) }

// text is a string or its bytes, so that references found in raw JSON are
// read without copying them into strings.
type text interface{ ~string | ~[]byte }

// patientID is PatientID for either form.
func patientID[T text](ref T) (T, bool) {
	ref = cutByte(ref, '?')
	ref = cutByte(ref, '#')
	// Walk the last segments from the end without splitting: the id is
	// the segment after the last "Patient" that ends the reference or is
	// followed by _history/vid.
	segs := lastSegments(ref)
	switch {
	case segs.n >= 2 && string(segs.s[1]) == "Patient" && validID(segs.s[0]):
		return segs.s[0], true
	case segs.n >= 4 && string(segs.s[3]) == "Patient" && validID(segs.s[2]) && string(segs.s[1]) == "_history" && validID(segs.s[0]):
		return segs.s[2], true
	}
	var none T
	return none, false
}

// cutByte returns s up to its first c.
func cutByte[T text](s T, c byte) T {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return s[:i]
		}
	}
	return s
}

// lastSegments returns up to the last four "/"-separated segments of s,
// last first.
func lastSegments[T text](s T) (segs struct {
	n int
	s [4]T
}) {
	for segs.n < 4 {
		i := len(s) - 1
		for i >= 0 && s[i] != '/' {
			i--
		}
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
func ValidID(s string) bool { return validID(s) }

// validID is ValidID for either form.
func validID[T text](s T) bool {
	if len(s) == 0 || len(s) > 64 || string(s) == "." || string(s) == ".." {
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
