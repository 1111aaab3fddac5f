package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkScanAgainstStdlib checks jsScanObject against encoding/json: it
// accepts exactly the inputs that are one valid JSON object, and then finds
// the same members, last one winning, with the same bytes.
func checkScanAgainstStdlib(t *testing.T, data []byte) {
	t.Helper()
	got, err := jsScanObject(data, nil)
	first := jsSpace(data, 0)
	isObject := first < len(data) && data[first] == '{'
	valid := json.Valid(data) && isObject
	if valid != (err == nil) {
		t.Fatalf("scan error %v, json.Valid object %v, input %q", err, valid, data)
	}
	if err != nil {
		var se *jsSyntaxError
		if !errors.As(err, &se) || se.off < 0 || se.off > len(data) {
			t.Fatalf("error %v is not a syntax error with an offset in range", err)
		}
		return
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	m := make(map[string]json.RawMessage)
	for i := range got {
		m[got[i].key(data)] = data[got[i].vs:got[i].ve]
	}
	if len(m) != len(want) {
		t.Fatalf("%d members, encoding/json has %d", len(m), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(m[k], v) {
			t.Fatalf("member %q = %q, encoding/json has %q", k, m[k], v)
		}
	}
}

func TestScanObject(t *testing.T) {
	deep := strings.Repeat(`{"a":`, jsMaxDepth-1) + `1` + strings.Repeat(`}`, jsMaxDepth-1)
	tooDeep := `{"a":` + strings.Repeat(`[`, jsMaxDepth) + strings.Repeat(`]`, jsMaxDepth) + `}`
	deepArrays := `{"a":` + strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300) + `}`
	tests := []struct {
		name    string
		in      string
		members []string // names in order, when valid
		wantErr bool
	}{
		{name: "empty object", in: `{}`, members: []string{}},
		{name: "spaces around", in: " \r\n\t{ } \n", members: []string{}},
		{name: "flat", in: `{"resourceType":"Patient","id":"1","active":true}`, members: []string{"resourceType", "id", "active"}},
		{name: "nested values", in: `{"a":{"b":[1,2,{"c":null}]},"d":[],"e":{},"f":-0.5e+10}`, members: []string{"a", "d", "e", "f"}},
		{name: "escaped name", in: `{"resource\u0054ype":"Patient"}`, members: []string{"resourceType"}},
		{name: "escapes in strings", in: `{"a":"q\"\\\/\b\f\n\r\t\u00e9"}`, members: []string{"a"}},
		{name: "utf8 name", in: `{"é":1}`, members: []string{"é"}},
		{name: "invalid utf8 name", in: "{\"\xff\":1}", members: []string{"\ufffd"}},
		{name: "duplicate names", in: `{"a":1,"a":2}`, members: []string{"a", "a"}},
		{name: "numbers", in: `{"a":0,"b":-1,"c":12.50,"d":1E5,"e":1e-5,"f":-0}`, members: []string{"a", "b", "c", "d", "e", "f"}},
		{name: "deep but allowed", in: deep, members: []string{"a"}},
		{name: "deep arrays beyond inline stack", in: deepArrays, members: []string{"a"}},
		{name: "too deep", in: tooDeep, wantErr: true},
		{name: "empty input", in: ``, wantErr: true},
		{name: "array", in: `[]`, wantErr: true},
		{name: "null", in: `null`, wantErr: true},
		{name: "trailing comma", in: `{"a":1,}`, wantErr: true},
		{name: "trailing comma in array", in: `{"a":[1,]}`, wantErr: true},
		{name: "missing colon", in: `{"a" 1}`, wantErr: true},
		{name: "unquoted name", in: `{a:1}`, wantErr: true},
		{name: "bad escape", in: `{"a":"\x"}`, wantErr: true},
		{name: "short unicode escape", in: `{"a":"\u12"}`, wantErr: true},
		{name: "control character", in: "{\"a\":\"x\ny\"}", wantErr: true},
		{name: "unterminated string", in: `{"a":"abc`, wantErr: true},
		{name: "unterminated object", in: `{"a":1`, wantErr: true},
		{name: "leading zero", in: `{"a":01}`, wantErr: true},
		{name: "bare minus", in: `{"a":-}`, wantErr: true},
		{name: "bare dot", in: `{"a":1.}`, wantErr: true},
		{name: "bare exponent", in: `{"a":1e}`, wantErr: true},
		{name: "bad literal", in: `{"a":tru}`, wantErr: true},
		{name: "data after", in: `{"a":1} x`, wantErr: true},
		{name: "two objects", in: `{}{}`, wantErr: true},
		{name: "mismatched brackets", in: `{"a":[1}`, wantErr: true},
		{name: "missing value", in: `{"a":}`, wantErr: true},
		{name: "single quotes", in: `{'a':1}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkScanAgainstStdlib(t, []byte(tc.in))
			got, err := jsScanObject([]byte(tc.in), nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			names := make([]string, 0, len(got))
			for i := range got {
				names = append(names, got[i].key([]byte(tc.in)))
			}
			if strings.Join(names, ",") != strings.Join(tc.members, ",") {
				t.Fatalf("members %q, want %q", names, tc.members)
			}
		})
	}
}

func TestScanObjectExamples(t *testing.T) {
	files := resExampleFiles(t)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) { checkScanAgainstStdlib(t, data) })
	}
}

// FuzzScanObject checks the scanner against encoding/json on any input: it
// never panics, rejects what encoding/json rejects, and on valid objects
// finds the same members with the same bytes.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":"c\u00e9"}],"a":-1.5e3}`, `{"a":"\ud800"}`, `{"a" : [ ] , "b" : { } }`} {
		f.Add([]byte(s))
	}
	if dir, ok := resTestDataDir(); ok {
		paths, _ := filepath.Glob(filepath.Join(dir, "r4-examples", "*.json"))
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanAgainstStdlib(t, data)
		var r Resource
		err := r.Reset(data)
		var head map[string]any
		first := jsSpace(data, 0)
		rt := ""
		if json.Unmarshal(data, &head) == nil && first < len(data) && data[first] == '{' {
			rt, _ = head["resourceType"].(string)
		}
		if rt == "" {
			if err == nil {
				t.Fatalf("Reset accepted %q", data)
			}
			return
		}
		if err != nil || r.Type != rt {
			t.Fatalf("Reset = %v, type %q; encoding/json type %q", err, r.Type, rt)
		}
		if id, _ := head["id"].(string); r.ID != id {
			t.Fatalf("id %q, encoding/json %q", r.ID, id)
		}
	})
}

// FuzzScanObjectValid: on valid JSON objects the fast scan agrees with
// the validating one; on anything else it never panics.
func FuzzScanObjectValid(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x\"y","c":[1,{"d":"}"}],"e\u0041":null}`, `{}`, `{"a":"\\"}`, `[1]`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast := jsScanObjectValid(data, nil)
		slow, err := jsScanObject(data, nil)
		if err != nil {
			return
		}
		if len(fast) != len(slow) {
			t.Fatalf("%d members, want %d", len(fast), len(slow))
		}
		for i := range slow {
			if fast[i].key(data) != slow[i].key(data) || string(data[fast[i].vs:fast[i].ve]) != string(data[slow[i].vs:slow[i].ve]) {
				t.Fatalf("member %d differs", i)
			}
		}
	})
}
