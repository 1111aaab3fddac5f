package telemetry

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		wantErr  bool
	}{
		{"empty", "", map[string]string{}, false},
		{"comments and blanks", "# c\n\n  \n", map[string]string{}, false},
		{"two", "Authorization: Bearer abc\r\nx-scope-orgid:tenant-1\n", map[string]string{"Authorization": "Bearer abc", "X-Scope-Orgid": "tenant-1"}, false},
		{"colon in value", "api-key: a:b:c", map[string]string{"Api-Key": "a:b:c"}, false},
		{"last wins", "A: 1\na: 2", map[string]string{"A": "2"}, false},
		{"empty value", "X-Empty:", map[string]string{"X-Empty": ""}, false},
		{"no colon", "Authorization Bearer abc", nil, true},
		{"space in name", "Bad Name: v", nil, true},
		{"empty name", ": v", nil, true},
		{"control char", "A: b\x00c", nil, true},
		{"utf8 name", "Ümlaut: v", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHeaders([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrHeadersFile) {
					t.Fatalf("err = %v, want ErrHeadersFile", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadHeadersFile(t *testing.T) {
	dir := t.TempDir()
	if h, err := ReadHeadersFile(""); h != nil || err != nil {
		t.Errorf(`ReadHeadersFile("") = %v, %v`, h, err)
	}
	if _, err := ReadHeadersFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big")
	writeFile(t, big, "A: "+strings.Repeat("x", maxHeadersFile))
	if _, err := ReadHeadersFile(big); !errors.Is(err, ErrHeadersFile) {
		t.Errorf("oversized file: %v", err)
	}
	ok := filepath.Join(dir, "ok")
	writeFile(t, ok, "A: 1\n")
	if h, err := ReadHeadersFile(ok); err != nil || h["A"] != "1" {
		t.Errorf("ReadHeadersFile = %v, %v", h, err)
	}
}

// FuzzParseHeaders checks that any headers file either parses into valid
// header fields or fails with ErrHeadersFile, never revealing a value.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{
		"Authorization: Bearer abc\n", "# comment\napi-key: k\r\n", "x-scope-orgid:tenant\n\n",
		"no colon\n", ": v", "A: b\x00c", "A:" + strings.Repeat("v", 5000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeaders(data)
		if err != nil {
			if !errors.Is(err, ErrHeadersFile) {
				t.Fatalf("error %v does not match ErrHeadersFile", err)
			}
			return
		}
		for k, v := range h {
			if !isToken(k) || !validValue(v) || strings.TrimSpace(v) != v {
				t.Fatalf("bad header %q: %q", k, v)
			}
		}
	})
}
