package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// doc is a resource body parsed for storage: compact members in their
// original order and every reference it holds.
type doc struct {
	typ     string
	id      string
	members []member
	refs    []string // every Reference.reference, normalized by normRef
	ix      *index   // search index, computed for id when set
}

// parseDoc parses one resource body. rewrite, when not nil, replaces
// references (urn:uuid and conditional references in transactions).
func parseDoc(body []byte, rewrite func(string) (string, bool)) (*doc, error) {
	if !json.Valid(body) {
		return nil, newError(http.StatusBadRequest, "invalid", "body is not valid JSON")
	}
	return parseValid(body, rewrite)
}

// parseValid is parseDoc for bytes already known to be valid JSON (such
// as Bundle entries a json.Decoder has read).
func parseValid(body []byte, rewrite func(string) (string, bool)) (*doc, error) {
	d := &doc{}
	compact, err := compactRefs(make([]byte, 0, len(body)), body, rewrite, func(ref string) {
		if n := normRef(ref); n != "" {
			d.refs = append(d.refs, n)
		}
	})
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid", "body is not a JSON object")
	}
	if d.members, err = splitObject(compact); err != nil {
		return nil, newError(http.StatusBadRequest, "invalid", "body is not a JSON object")
	}
	for _, m := range d.members {
		switch m.key {
		case "resourceType":
			_ = json.Unmarshal(m.val, &d.typ)
		case "id":
			if json.Unmarshal(m.val, &d.id) != nil || !fhir.ValidID(d.id) {
				return nil, newError(http.StatusBadRequest, "invalid", "resource id is not a valid FHIR id")
			}
		case "meta":
			if len(m.val) == 0 || m.val[0] != '{' {
				return nil, newError(http.StatusBadRequest, "invalid", "meta is not an object")
			}
		}
	}
	if d.typ == "" {
		return nil, newError(http.StatusBadRequest, "invalid", "body has no resourceType")
	}
	if !fhir.IsResourceType(d.typ) {
		return nil, newError(http.StatusBadRequest, "not-supported", fmt.Sprintf("unknown resource type %q", d.typ))
	}
	return d, nil
}

// normRef reduces a reference to "Type/id" when it names a resource by
// relative or absolute URL (a version suffix is dropped). Contained ("#x")
// references give "", anything else (urn:uuid, conditional) is kept as is.
func normRef(ref string) string {
	if ref == "" || ref[0] == '#' {
		return ""
	}
	if strings.HasPrefix(ref, "urn:") || strings.ContainsRune(ref, '?') {
		return ref
	}
	segs := strings.Split(ref, "/")
	if n := len(segs); n >= 4 && segs[n-2] == "_history" {
		segs = segs[:n-2]
	}
	n := len(segs)
	if n >= 2 && fhir.IsResourceType(segs[n-2]) && fhir.ValidID(segs[n-1]) {
		if n == 2 {
			return ref[:len(segs[0])+1+len(segs[1])]
		}
		return segs[n-2] + "/" + segs[n-1]
	}
	return ref
}

// splitRef splits a normalized "Type/id" reference.
func splitRef(ref string) (typ, id string, ok bool) {
	typ, id, ok = strings.Cut(ref, "/")
	return typ, id, ok && fhir.IsResourceType(typ) && fhir.ValidID(id)
}

// head returns the resourceType and id of a resource that is valid JSON,
// without decoding the rest.
func head(body []byte) (typ, id string, err error) {
	ms, err := splitObject(body)
	if err != nil {
		return "", "", err
	}
	for _, m := range ms {
		switch m.key {
		case "resourceType":
			err = json.Unmarshal(m.val, &typ)
		case "id":
			err = json.Unmarshal(m.val, &id)
		}
		if err != nil {
			return "", "", err
		}
	}
	return typ, id, nil
}
