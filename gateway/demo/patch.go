package demo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// patchOp is one RFC 6902 operation.
type patchOp struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	From  *string         `json:"from"`
	Value json.RawMessage `json:"value"`
}

// patchError is a patch that cannot be applied; test marks a failed "test"
// operation.
type patchError struct {
	msg  string
	test bool
}

// Error returns the reason the patch cannot be applied.
func (e *patchError) Error() string { return e.msg }

func badPatch(msg string) error { return &patchError{msg: msg} }

// patchStatus turns a patchError into the statusError reported.
func patchStatus(err error, prefix string) error {
	status := http.StatusBadRequest
	if pe, ok := err.(*patchError); ok && pe.test {
		status = http.StatusUnprocessableEntity
	}
	return newError(status, "processing", "JSON Patch: "+prefix+err.Error())
}

// parsePatch decodes a JSON Patch document.
func parsePatch(patch []byte) ([]patchOp, error) {
	var ops []patchOp
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, badPatch("not an array of operations")
	}
	for i, op := range ops {
		switch op.Op {
		case "add", "replace", "test":
			if op.Value == nil {
				return nil, badPatch("operation " + strconv.Itoa(i) + " has no value")
			}
		case "remove":
		case "move", "copy":
			if op.From == nil {
				return nil, badPatch("operation " + strconv.Itoa(i) + " has no from")
			}
		default:
			return nil, badPatch("unsupported op " + strconv.Quote(op.Op))
		}
		if op.Path == nil {
			return nil, badPatch("operation " + strconv.Itoa(i) + " has no path")
		}
	}
	return ops, nil
}

// applyPatch applies a JSON Patch to a resource; a failed test gives 422.
func applyPatch(raw, patch []byte) ([]byte, error) {
	ops, err := parsePatch(patch)
	if err != nil {
		return nil, patchStatus(err, "")
	}
	var doc any
	if err := decodeNumber(raw, &doc); err != nil {
		return nil, patchStatus(err, "")
	}
	for i, op := range ops {
		if doc, err = applyOp(doc, op); err != nil {
			return nil, patchStatus(err, "operation "+strconv.Itoa(i)+": ")
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, patchStatus(err, "")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func decodeNumber(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return badPatch("value is not JSON")
	}
	return nil
}

func applyOp(doc any, op patchOp) (any, error) {
	path := *op.Path
	switch op.Op {
	case "add", "replace", "test":
		var v any
		if err := decodeNumber(op.Value, &v); err != nil {
			return nil, err
		}
		if op.Op == "test" {
			got, err := ptrGet(doc, path)
			if err != nil || !reflect.DeepEqual(got, v) {
				return nil, &patchError{msg: "test failed at " + path, test: true}
			}
			return doc, nil
		}
		return ptrSet(doc, path, v, op.Op == "replace")
	case "remove":
		doc, _, err := ptrRemove(doc, path)
		return doc, err
	case "copy", "move":
		v, err := ptrGet(doc, *op.From)
		if err != nil {
			return nil, err
		}
		if op.Op == "move" {
			if strings.HasPrefix(path, *op.From+"/") {
				return nil, badPatch("cannot move a value into itself")
			}
			if doc, _, err = ptrRemove(doc, *op.From); err != nil {
				return nil, err
			}
		} else {
			v = deepCopy(v)
		}
		return ptrSet(doc, path, v, false)
	}
	return nil, badPatch("unsupported op")
}

// pointer splits a JSON Pointer into unescaped tokens.
func pointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, badPatch("path " + strconv.Quote(p) + " is not a JSON Pointer")
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func arrayIndex(tok string, n int, allowEnd bool) (int, error) {
	if tok == "-" && allowEnd {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n || (i == n && !allowEnd) || (len(tok) > 1 && tok[0] == '0') {
		return 0, badPatch("array index " + strconv.Quote(tok) + " out of range")
	}
	return i, nil
}

func ptrGet(doc any, path string) (any, error) {
	toks, err := pointer(path)
	if err != nil {
		return nil, err
	}
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, badPatch("no value at " + path)
			}
			cur = v
		case []any:
			i, err := arrayIndex(t, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, badPatch("no value at " + path)
		}
	}
	return cur, nil
}

// set adds (or, with mustExist, replaces) v at path and returns the new
// document root.
func ptrSet(doc any, path string, v any, mustExist bool) (any, error) {
	toks, err := pointer(path)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return v, nil
	}
	parent, err := ptrGet(doc, joinPointer(toks[:len(toks)-1]))
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	switch p := parent.(type) {
	case map[string]any:
		if _, ok := p[last]; mustExist && !ok {
			return nil, badPatch("no value to replace at " + path)
		}
		p[last] = v
		return doc, nil
	case []any:
		if mustExist {
			i, err := arrayIndex(last, len(p), false)
			if err != nil {
				return nil, err
			}
			p[i] = v
			return doc, nil
		}
		i, err := arrayIndex(last, len(p), true)
		if err != nil {
			return nil, err
		}
		grown := append(p[:i:i], append([]any{v}, p[i:]...)...)
		return ptrSet(doc, joinPointer(toks[:len(toks)-1]), grown, true)
	}
	return nil, badPatch("cannot add below a scalar at " + path)
}

func ptrRemove(doc any, path string) (any, any, error) {
	toks, err := pointer(path)
	if err != nil {
		return nil, nil, err
	}
	if len(toks) == 0 {
		return nil, nil, badPatch("cannot remove the whole resource")
	}
	parent, err := ptrGet(doc, joinPointer(toks[:len(toks)-1]))
	if err != nil {
		return nil, nil, err
	}
	last := toks[len(toks)-1]
	switch p := parent.(type) {
	case map[string]any:
		v, ok := p[last]
		if !ok {
			return nil, nil, badPatch("no value to remove at " + path)
		}
		delete(p, last)
		return doc, v, nil
	case []any:
		i, err := arrayIndex(last, len(p), false)
		if err != nil {
			return nil, nil, err
		}
		v := p[i]
		shrunk := append(p[:i:i], p[i+1:]...)
		doc, err = ptrSet(doc, joinPointer(toks[:len(toks)-1]), shrunk, true)
		return doc, v, err
	}
	return nil, nil, badPatch("no value to remove at " + path)
}

func joinPointer(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
