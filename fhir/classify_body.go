package fhir

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// ClassifyBody completes a Request with NeedsBody set, reading the body:
// a JSON Bundle for batch/transaction (stream-parsed, entries decoded one
// at a time), form-encoded parameters of POST _search, JSON resources of
// create and update (their compartment references), and JSON patches and
// operation parameters (the Patient references they name). contentType is
// the request Content-Type. A resource body in a format the classifier
// does not read sets BodyOpaque instead of failing. It does nothing when
// NeedsBody is false. Errors are *ClassifyError.
func (c *Classifier) ClassifyBody(req *Request, contentType string, body io.Reader) error {
	if !req.NeedsBody {
		return nil
	}
	if body == nil {
		body = http.NoBody
	}
	lr := &limitReader{r: body, n: c.maxBody}
	var err error
	switch req.Interaction {
	case InteractionUnknown:
		err = c.classifyBundle(req, contentType, lr)
	case SearchType, SearchSystem:
		err = classifyForm(req, contentType, lr)
	default:
		err = classifyResourceBody(req, contentType, lr)
	}
	if lr.over {
		return classifyErr(ErrBodyTooLarge, "")
	}
	if err != nil {
		return err
	}
	req.NeedsBody = false
	return nil
}

// classifyForm adds the parameters of a POST _search form body.
func classifyForm(req *Request, contentType string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return readErr(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if !isFormType(contentType) {
		return classifyErr(ErrUnsupportedMediaType, "a _search body must be form-encoded")
	}
	params, err := ParseFormParams(string(b))
	if err != nil {
		return err
	}
	req.Params = append(req.Params, params...)
	for i := range params {
		if params[i].Name == "_format" && len(params[i].Values) > 0 {
			req.Format = formatOf(params[i].Values[0])
		}
	}
	derive(req)
	return nil
}

// classifyResourceBody reads the body of a create, update, patch or
// operation.
func classifyResourceBody(req *Request, contentType string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return readErr(err)
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		if req.Interaction == Operation {
			return nil
		}
		return classifyErr(ErrInvalidBody, "empty body")
	}
	if req.Interaction == Operation && isFormType(contentType) {
		params, err := ParseFormParams(string(trimmed))
		if err != nil {
			return err
		}
		req.Params = append(req.Params, params...)
		derive(req)
		return nil
	}
	if !readsJSON(contentType, trimmed) {
		req.BodyOpaque = true
		return nil
	}
	var res Resource
	if trimmed[0] == '{' {
		if err := res.Reset(trimmed); err != nil {
			return classifyErr(ErrInvalidBody, "not a FHIR resource")
		}
	}
	return applyBody(req, &res, trimmed, nil)
}

// readsJSON reports whether a body is JSON: by its Content-Type, or by its
// first byte when there is none.
func readsJSON(contentType string, b []byte) bool {
	if contentType == "" {
		return b[0] == '{' || b[0] == '['
	}
	return formatOf(contentType) == FormatJSON
}

// applyBody checks a JSON body against the request and adds the Patients
// and data classes it names. res is the body as a resource (Type "" for a
// JSON Patch array); raw its bytes. Unresolved references go to pending
// when it is not nil (Bundle entries, resolved once every fullUrl is
// known).
func applyBody(req *Request, res *Resource, raw []byte, pending func(ref string)) error {
	var ids []string
	add := func(ref string) {
		if id, ok := PatientID(ref); ok {
			ids = append(ids, id)
		} else if pending != nil && ref != "" {
			pending(ref)
		}
	}
	switch req.Interaction {
	case Create, Update:
		if res.Type != req.ResourceType {
			return classifyErr(ErrInvalidBody, "resourceType does not match the request")
		}
		if req.Interaction == Update && !req.Conditional && res.ID != req.ID {
			return classifyErr(ErrInvalidBody, "resource id does not match the request")
		}
		if res.Type == "Patient" && ValidID(res.ID) {
			ids = append(ids, res.ID)
		}
		res.compartmentRefs(add)
		if req.Interaction == Create {
			if m := resourceClasses(res); m != 0 {
				req.DataClasses = m.names()
			}
		}
	case Patch, Operation:
		if res.Type == "Binary" {
			var ok bool
			if raw, ok = binaryJSON(res); !ok {
				req.BodyOpaque = true
				return nil
			}
		}
		var tree any
		if err := json.Unmarshal(raw, &tree); err != nil {
			return classifyErr(ErrInvalidBody, "invalid JSON")
		}
		walkStrings(tree, add)
	default:
		return nil
	}
	req.Patients = mergeIDs(req.Patients, sortUnique(ids))
	return nil
}

// binaryJSON returns the decoded data of a Binary holding a JSON Patch,
// the form a JSON Patch takes inside a Bundle.
func binaryJSON(res *Resource) ([]byte, bool) {
	var ct, data string
	if !res.Member("contentType", &ct) || formatOf(ct) != FormatJSON || !res.Member("data", &data) {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil || !json.Valid(b) {
		return nil, false
	}
	return b, true
}

// limitReader reads at most n bytes of r and then fails with
// ErrBodyTooLarge, remembering that it did.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

// Read reads from r, failing once more than n bytes came.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		l.over = true
		return 0, ErrBodyTooLarge
	}
	return n, err
}

// readErr maps a body read error to a ClassifyError.
func readErr(err error) error {
	if errors.Is(err, ErrBodyTooLarge) {
		return classifyErr(ErrBodyTooLarge, "")
	}
	return classifyErr(ErrInvalidBody, "reading the body failed")
}
