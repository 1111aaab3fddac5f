package demo

import (
	"bytes"
	"encoding/json"
)

// obj is a JSON object that keeps its members in order (for the
// CapabilityStatement and generated resources).
type obj []kv

// kv is one member of an obj; members whose value is nil or empty are left
// out, as FHIR JSON has no empty objects or arrays.
type kv struct {
	k string
	v any
}

// MarshalJSON writes the members in order, without HTML escaping.
func (o obj) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	n := 0
	for _, m := range o {
		if empty(m.v) {
			continue
		}
		b, err := marshal(m.v)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		buf = appendString(buf, m.k)
		buf = append(buf, ':')
		buf = append(buf, b...)
	}
	return append(buf, '}'), nil
}

// marshal encodes v as compact JSON without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

func empty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case obj:
		return len(t) == 0
	case []obj:
		return len(t) == 0
	case []string:
		return len(t) == 0
	}
	return false
}
