package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
)

// canonicalize sets p's canonical text and its SHA-256. The text is p's
// normalized decoded form as JSON: keys sorted by code point, no
// insignificant whitespace, HTML characters not escaped, empty values
// omitted. Validation has already sorted set-valued lists and put times in
// UTC.
func (p *Policy) canonicalize() error {
	b, err := canonicalJSON(p)
	if err != nil {
		return fmt.Errorf("policy %s: canonical text: %w", p.ID, err)
	}
	p.canonical = b
	sum := sha256.Sum256(b)
	p.sha = hex.EncodeToString(sum[:])
	return nil
}

// canonicalJSON encodes v with sorted keys: v is encoded, decoded into
// generic values (numbers kept as written) and encoded again, since
// encoding/json writes map keys sorted.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var g any
	if err := d.Decode(&g); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// setHash is the SHA-256 of the canonical JSON
// {"catalog":VERSION,"policies":[[id,version,sha256],...]} with the
// policies sorted by id.
func setHash(catalogVersion string, ps []*Policy) string {
	rows := make([][3]string, len(ps))
	for i, p := range ps {
		rows[i] = [3]string{p.ID, p.Version, p.sha}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	b, _ := json.Marshal(struct {
		Catalog  string      `json:"catalog"`
		Policies [][3]string `json:"policies"`
	}{catalogVersion, rows})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
