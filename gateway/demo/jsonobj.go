package demo

import (
	"bytes"
	"encoding/json"
)

// obj is a JSON object that keeps its members in order (for the
// CapabilityStatement and generated resources).
type obj []kv

// kv is one member of an obj; members with a nil value are left out.
type kv struct {
	k string
	v any
}

// MarshalJSON writes the members in order, without HTML escaping.
func (o obj) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	n := 0
	for _, m := range o {
		if m.v == nil {
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
