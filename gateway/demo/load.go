package demo

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ehigate/ehigate/fhir"
)

// bundleEntry is one entry of a batch, transaction or collection Bundle.
type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method          string `json:"method"`
		URL             string `json:"url"`
		IfMatch         string `json:"ifMatch"`
		IfNoneMatch     string `json:"ifNoneMatch"`
		IfNoneExist     string `json:"ifNoneExist"`
		IfModifiedSince string `json:"ifModifiedSince"`
	} `json:"request"`
}

// readBundle reads a Bundle's type and entries, one entry at a time.
func readBundle(r io.Reader) (string, []bundleEntry, error) {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", nil, ErrNotBundle
	}
	var kind, rt string
	var entries []bundleEntry
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", ErrNotBundle, err)
		}
		switch k, _ := t.(string); k {
		case "resourceType":
			err = dec.Decode(&rt)
		case "type":
			err = dec.Decode(&kind)
		case "entry":
			if t, err = dec.Token(); err != nil || t != json.Delim('[') {
				return "", nil, ErrNotBundle
			}
			for dec.More() {
				var e bundleEntry
				if err = dec.Decode(&e); err != nil {
					return "", nil, fmt.Errorf("%w: entry %d: %w", ErrNotBundle, len(entries), err)
				}
				entries = append(entries, e)
			}
			_, err = dec.Token()
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", ErrNotBundle, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNotBundle, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", nil, fmt.Errorf("%w: data after the Bundle", ErrNotBundle)
	}
	if rt != "Bundle" {
		return "", nil, ErrNotBundle
	}
	return kind, entries, nil
}

// Put stores one resource under its own id (a new version when the id is
// already in use).
func (s *Server) Put(raw json.RawMessage) error {
	d, err := parseDoc(raw, nil)
	if err != nil {
		return fmt.Errorf("demo: put: %w", err)
	}
	if d.id == "" {
		return fmt.Errorf("demo: put %s: %w: no id", d.typ, ErrInvalid)
	}
	d.ix = buildIndex(d)
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	_, err = s.st.write(nil, d, d.id, http.MethodPut, s.now())
	return err
}

// LoadTransaction loads the resources of a transaction, batch or collection
// Bundle (such as a Synthea patient record), all or none. Each resource
// keeps its id (or takes the uuid of a urn:uuid fullUrl, or a new one), and
// references to entry fullUrls become Type/id references; conditional
// references ("Type?param=value") that match one stored resource are
// resolved too. It returns how many resources were loaded.
func (s *Server) LoadTransaction(r io.Reader) (int, error) {
	_, entries, err := readBundle(r)
	if err != nil {
		return 0, fmt.Errorf("demo: load: %w", err)
	}
	ids := make(map[string]string, len(entries))
	keys := make([]key, len(entries))
	for i, e := range entries {
		if len(e.Resource) == 0 {
			continue
		}
		typ, id, err := head(e.Resource)
		if err != nil || !fhir.IsResourceType(typ) {
			return 0, fmt.Errorf("demo: load: entry %d: %w", i, ErrInvalid)
		}
		if !fhir.ValidID(id) {
			id = strings.TrimPrefix(e.FullURL, "urn:uuid:")
			if !fhir.ValidID(id) {
				id = rand.Text()
			}
		}
		keys[i] = key{typ, id}
		if e.FullURL != "" {
			ids[e.FullURL] = typ + "/" + id
		}
	}
	rewrite := func(ref string) (string, bool) {
		if to, ok := ids[ref]; ok {
			return to, true
		}
		return s.conditionalRef(ref)
	}
	docs := make([]*doc, 0, len(entries))
	methods := make([]string, 0, len(entries))
	for i, e := range entries {
		if len(e.Resource) == 0 {
			continue
		}
		d, err := parseValid(e.Resource, rewrite)
		if err != nil {
			return 0, fmt.Errorf("demo: load: entry %d: %w", i, err)
		}
		d.id = keys[i].id
		d.ix = buildIndex(d)
		docs = append(docs, d)
		m := http.MethodPut
		if e.Request != nil && e.Request.Method == http.MethodPost {
			m = http.MethodPost
		}
		methods = append(methods, m)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	now := s.now()
	for i, d := range docs {
		if _, err := s.st.write(nil, d, d.id, methods[i], now); err != nil {
			return i, fmt.Errorf("demo: load: %w", err)
		}
	}
	return len(docs), nil
}

// conditionalRef resolves "Type?criteria" to the one stored match.
func (s *Server) conditionalRef(ref string) (string, bool) {
	typ, criteria, ok := strings.Cut(ref, "?")
	if !ok || !fhir.IsResourceType(typ) {
		return "", false
	}
	s.st.mu.RLock()
	m, err := s.matchLocked(typ, criteria)
	s.st.mu.RUnlock()
	if err != nil || len(m) != 1 {
		return "", false
	}
	return typ + "/" + m[0].id, true
}
