package yamlx

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Doc remembers where each key path of a decoded file is, so that
// validation after decoding can still name file:line.
type Doc struct {
	File string
	pos  map[string]int
}

// Line returns the line of path, or of its nearest ancestor that is in the
// file (so a missing key is reported at its parent), or 0.
func (d *Doc) Line(path string) int {
	if d == nil {
		return 0
	}
	for p := path; ; {
		if l, ok := d.pos[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return d.pos[""]
		}
		p = p[:i]
	}
}

// Has reports whether path was present in the file.
func (d *Doc) Has(path string) bool {
	if d == nil {
		return false
	}
	_, ok := d.pos[path]
	return ok
}

// Add records a problem at path's line.
func (d *Doc) Add(ps *Problems, path, format string, args ...any) {
	file := ""
	if d != nil {
		file = d.File
	}
	ps.Add(file, d.Line(path), path, format, args...)
}

// Decode parses data (the contents of file) and decodes it into v, which
// must be a pointer to a struct. Unknown keys, duplicate keys and values of
// the wrong type are problems; decoding goes on after each so that all are
// reported. Fields are named by their yaml tag; ",inline" embeds a struct.
func Decode(file string, data []byte, v any) (*Doc, Problems) {
	d := &decoder{doc: &Doc{File: file, pos: map[string]int{"": 1}}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		d.problems.Add(file, yamlErrLine(err), "", "%s", yamlErrMsg(err))
		return d.doc, d.problems
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return d.doc, nil // empty file
	}
	d.decode(root.Content[0], reflect.ValueOf(v).Elem(), "")
	return d.doc, d.problems
}

// DecodeNode decodes one already-parsed node, recording positions under
// the prefix path. It is for files holding several documents or lists.
func DecodeNode(doc *Doc, n *yaml.Node, v any, prefix string) Problems {
	if doc.pos == nil {
		doc.pos = map[string]int{"": 1}
	}
	d := &decoder{doc: doc}
	d.decode(n, reflect.ValueOf(v).Elem(), prefix)
	return d.problems
}

type decoder struct {
	doc      *Doc
	problems Problems
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.problems.Add(d.doc.File, n.Line, path, format, args...)
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	timeType      = reflect.TypeOf(time.Time{})
	nodeType      = reflect.TypeOf(yaml.Node{})
	textUnmarshal = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if _, ok := d.doc.pos[path]; !ok {
		d.doc.pos[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && v.Kind() != reflect.Interface {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	t := v.Type()
	switch {
	case t == nodeType:
		v.Set(reflect.ValueOf(*n))
		return
	case t == durationType:
		d.duration(n, v, path)
		return
	case t == timeType:
		d.time(n, v, path)
		return
	case reflect.PointerTo(t).Implements(textUnmarshal) && t.Kind() != reflect.Pointer:
		if !d.scalar(n, path, "a string") {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(n, path, "%s", trimPrefix(err))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.String:
		if d.scalar(n, path, "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if !d.scalar(n, path, "true or false") {
			return
		}
		b, err := strconv.ParseBool(n.Value)
		if err != nil || n.Tag != "!!bool" {
			d.fail(n, path, "want true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n, path, "an integer") {
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(n, path, "want an integer, got %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !d.scalar(n, path, "a non-negative integer") {
			return
		}
		i, err := strconv.ParseUint(n.Value, 0, 64)
		if err != nil || v.OverflowUint(i) {
			d.fail(n, path, "want a non-negative integer, got %q", n.Value)
			return
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		if !d.scalar(n, path, "a number") {
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "want a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(n, path, "%s", yamlErrMsg(err))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.fail(n, path, "unsupported field type %s", t)
	}
}

func (d *decoder) scalar(n *yaml.Node, path, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want %s, got %s", want, kindName(n))
		return false
	}
	return true
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if !d.scalar(n, path, "a duration") {
		return
	}
	dur, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "%s", trimPrefix(err))
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) time(n *yaml.Node, v reflect.Value, path string) {
	if !d.scalar(n, path, "a date") {
		return
	}
	t, err := ParseTime(n.Value)
	if err != nil {
		d.fail(n, path, "%s", trimPrefix(err))
		return
	}
	v.Set(reflect.ValueOf(t))
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if seen[k.Value] {
			d.fail(k, kp, "duplicate key")
			continue
		}
		seen[k.Value] = true
		f, ok := fields[k.Value]
		if !ok {
			d.fail(k, kp, "unknown key%s", suggest(k.Value, fields))
			continue
		}
		d.doc.pos[kp] = k.Line
		d.decode(val, v.FieldByIndex(f), kp)
	}
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.decode(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.fail(n, path, "unsupported map key type %s", v.Type().Key())
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if m.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())).IsValid() {
			d.fail(k, kp, "duplicate key")
			continue
		}
		d.doc.pos[kp] = k.Line
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	}
	v.Set(m)
}

// fieldsOf maps yaml key names to field index paths, following ",inline".
func fieldsOf(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			for k, idx := range fieldsOf(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = []int{i}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func suggest(key string, fields map[string][]int) string {
	best, bestD := "", 3
	for k := range fields {
		if dd := distance(key, k); dd < bestD || (dd == bestD && best != "" && k < best) {
			best, bestD = k, dd
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func trimPrefix(err error) string {
	s := err.Error()
	for _, p := range []string{"yamlx: ", "decision: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}
