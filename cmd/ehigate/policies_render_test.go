package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPoliciesRender(t *testing.T) {
	dir, cfgFile := gatewayWithRecords(t)
	ctx := context.Background()
	htmlOut := filepath.Join(dir, "written-policy.html")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"markdown", []string{"policies", "render", "--config", cfgFile, "--format", "md", "--as-of", "2027-01-01"}, 0, []string{
			"# Written policy", "The policies configured in ehigate.yaml.", "## block-client-7f3a (version 1, deny) — **REVIEW OVERDUE**",
			"45 CFR 171.203", "### Version history", "| **1** |", "in force", "no-legacy-docs",
		}},
		{"html to a file", []string{"policies", "render", "--config", cfgFile, "--format", "html", "--out", htmlOut}, 0, nil},
		{"unknown format", []string{"policies", "render", "--config", cfgFile, "--format", "pdf"}, 2, nil},
		{"no subcommand", []string{"policies", "--config", cfgFile}, 2, nil},
		{"no config", []string{"policies", "render"}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(ctx, tc.args, &out, io.Discard); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, out.String())
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q", s)
				}
			}
		})
	}
	b, err := os.ReadFile(htmlOut)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<!doctype html>") || !strings.Contains(string(b), "part2-non-treating") || strings.Contains(string(b), dir) {
		t.Errorf("written policy page:\n%.400s", b)
	}
}
