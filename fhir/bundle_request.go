package fhir

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// bundleEntry is the part of a request Bundle entry the classifier reads.
// It is reused from entry to entry, keeping the resource buffer.
type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		IfNoneExist string `json:"ifNoneExist"`
	} `json:"request"`
}

// pendingRef is a reference of entry Entry that only the Bundle can resolve.
type pendingRef struct {
	entry int
	ref   string
}

// bundleState is what classifying a request Bundle keeps between entries:
// never the entries' resources, only their classification.
type bundleState struct {
	c       *Classifier
	entries []Entry
	// patientURLs maps the fullUrl of each Patient entry to its id.
	patientURLs map[string]string
	pending     []pendingRef
	res         Resource
	e           bundleEntry
}

// classifyBundle stream-parses a batch or transaction Bundle, classifying
// each entry as it is decoded, then resolves the references to Patient
// entries' fullUrls.
func (c *Classifier) classifyBundle(req *Request, contentType string, r io.Reader) error {
	if contentType != "" && formatOf(contentType) != FormatJSON {
		return classifyErr(ErrUnsupportedMediaType, "a batch or transaction must be JSON")
	}
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	st := &bundleState{c: c}
	var resourceType, bundleType string
	var skip json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		key, _ := tok.(string)
		switch key {
		case "resourceType":
			err = dec.Decode(&resourceType)
		case "type":
			err = dec.Decode(&bundleType)
		case "entry":
			err = st.readEntries(dec)
		default:
			err = dec.Decode(&skip)
		}
		if err != nil {
			return jsonErr(err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return classifyErr(ErrInvalidBody, "data after the Bundle")
	}
	if resourceType != "Bundle" {
		return classifyErr(ErrInvalidBody, "resourceType is not Bundle")
	}
	switch bundleType {
	case "batch":
		req.Interaction = Batch
	case "transaction":
		req.Interaction = Transaction
	default:
		return classifyErr(ErrInvalidBody, "Bundle.type is not batch or transaction")
	}
	st.resolve()
	req.Entries = st.entries
	req.Patients, req.DataClasses = nil, nil
	for i := range st.entries {
		er := &st.entries[i].Request
		req.Patients = mergeIDs(req.Patients, er.Patients)
		req.DataClasses = mergeIDs(req.DataClasses, er.DataClasses)
	}
	return nil
}

// readEntries reads the entry array one entry at a time.
func (st *bundleState) readEntries(dec *json.Decoder) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		if len(st.entries) == st.c.maxEntries {
			return classifyErr(ErrBodyTooLarge, "too many entries")
		}
		e := &st.e
		e.FullURL, e.Resource, e.Request.Method, e.Request.URL, e.Request.IfNoneExist = "", e.Resource[:0], "", "", ""
		if err := dec.Decode(e); err != nil {
			return err
		}
		if err := st.classifyEntry(); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

// classifyEntry classifies the entry in st.e.
func (st *bundleState) classifyEntry() error {
	i := len(st.entries)
	e := &st.e
	st.entries = append(st.entries, Entry{Index: i, FullURL: e.FullURL})
	er := &st.entries[i].Request
	er.Method = e.Request.Method
	if e.Request.Method == "" || e.Request.URL == "" {
		return entryErr(i, classifyErr(ErrInvalidBody, "entry.request needs a method and a url"))
	}
	path, query, _ := strings.Cut(e.Request.URL, "?")
	path = strings.TrimPrefix(path, "/")
	if err := route(er, e.Request.Method, path, query, e.Request.IfNoneExist, true); err != nil {
		return entryErr(i, err)
	}
	derive(er)
	raw := []byte(e.Resource)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := st.res.Reset(raw); err != nil {
		return entryErr(i, classifyErr(ErrInvalidBody, "entry.resource is not a FHIR resource"))
	}
	if st.res.Type == "Patient" && ValidID(st.res.ID) && e.FullURL != "" {
		if st.patientURLs == nil {
			st.patientURLs = make(map[string]string)
		}
		st.patientURLs[strings.Clone(e.FullURL)] = strings.Clone(st.res.ID)
	}
	err := applyBody(er, &st.res, raw, func(ref string) {
		st.pending = append(st.pending, pendingRef{entry: i, ref: ref})
	})
	if err != nil {
		return entryErr(i, err)
	}
	return nil
}

// resolve adds to each entry the Patients its references to other
// entries' fullUrls name.
func (st *bundleState) resolve() {
	for _, p := range st.pending {
		if id, ok := st.patientURLs[p.ref]; ok {
			er := &st.entries[p.entry].Request
			er.Patients = mergeIDs(er.Patients, []string{id})
		}
	}
}

// expectDelim reads the next token and checks it is d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonErr(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return classifyErr(ErrInvalidBody, "unexpected JSON structure")
	}
	return nil
}

// jsonErr maps a decoding error to a ClassifyError, keeping the ones that
// already are.
func jsonErr(err error) error {
	var ce *ClassifyError
	switch {
	case errors.As(err, &ce):
		return err
	case errors.Is(err, ErrBodyTooLarge):
		return classifyErr(ErrBodyTooLarge, "")
	}
	return classifyErr(ErrInvalidBody, "invalid JSON")
}
