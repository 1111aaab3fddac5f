package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision"
)

// denyDocs is a policy that denies every DocumentReference, so that a
// gateway without identity configured makes restrictions.
const denyDocs = `policies:
  - id: no-legacy-docs
    version: "1"
    description: Legacy documents cannot be segmented.
    action: deny
    exception: infeasibility.segmentation
    match: {resource_types: [DocumentReference]}
    documentation:
      rationale: mixed scans
      decided_by: {name: Luis Ortega, role: HIM director}
      decided_at: 2026-08-15
      ehi_scope: legacy DocumentReferences
      minimum_necessary: only legacy scans
      review_by: 2027-02-15
      evidence: [LM-4]
      conditions:
        withheld_category: psychotherapy notes
        withheld_basis: not EHI
        segmentation_limitation: images
    notice: {message: Not available., next_step: Reasons follow in writing., contact: records office}
`

// gatewayWithRecords runs the gateway on the example policies and one
// denying policy, makes a few requests, and shuts it down.
func gatewayWithRecords(t *testing.T) (dir, cfgFile string) {
	t.Helper()
	dir = t.TempDir()
	deny := filepath.Join(dir, "deny.yaml")
	if err := os.WriteFile(deny, []byte(denyDocs), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile = writeConfig(t, dir, examples(t), deny)
	cfg, err := configs.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/fhir/DocumentReference/d1", "/fhir/DocumentReference?patient=pat-1", "/fhir/Observation?patient=pat-2", "/fhir/metadata"} {
		a.handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://127.0.0.1:1"+path, nil))
	}
	if err := a.close(ctx); err != nil {
		t.Fatal(err)
	}
	return dir, cfgFile
}

// TestExportCommand exports a package, checks it with verify-package
// (with the published key, and with the package's own), finds the export
// journaled as an access, and fails verification of a changed package.
func TestExportCommand(t *testing.T) {
	dir, cfgFile := gatewayWithRecords(t)
	ctx := context.Background()
	pkg := filepath.Join(dir, "package.zip")
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"export", "--config", cfgFile, "--from", "1h", "--out", pkg, "--by", "investigator"}, &out, &errb); code != 0 {
		t.Fatalf("export: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "wrote "+pkg+": 4 records") {
		t.Fatalf("export said %q", out.String())
	}
	pub := filepath.Join(dir, "journal.pub")
	out.Reset()
	if code := run(ctx, []string{"keys", "public", "--config", cfgFile}, &out, io.Discard); code != 0 {
		t.Fatal("keys public failed")
	}
	os.WriteFile(pub, out.Bytes(), 0o600)

	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"published key", []string{"verify-package", pkg, "--public-key", pub}, 0, []string{"a trusted key", "records: 4, 4 recomputed", "\nOK\n"}},
		{"flags first", []string{"verify-package", "--public-key", pub, pkg}, 0, []string{"\nOK\n"}},
		{"own key", []string{"verify-package", pkg}, 0, []string{"the package's own key", "note: checked with the package's own public key", "\nOK\n"}},
		{"json", []string{"verify-package", pkg, "--format", "json"}, 0, []string{`"ok": true`}},
		{"no package", []string{"verify-package"}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(ctx, tc.args, &out, io.Discard); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, out.String())
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}

	// The export is in the journal, on the command line's signed chain.
	cfg, _ := configs.Load(cfgFile)
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var access []decision.Access
	st.Entries(ctx, "cli@test", 0, 0, func(e decision.Entry) error {
		if e.Kind == decision.KindAccess {
			var a decision.Access
			json.Unmarshal(e.Payload, &a)
			access = append(access, a)
		}
		return nil
	})
	st.Close()
	if len(access) != 1 || access[0].Actor != "cli:investigator" || !strings.HasPrefix(access[0].What, "export ") || access[0].Count != 4 {
		t.Fatalf("access entries %+v", access)
	}

	// A record changed after the export: verify-package fails and says why.
	bad := filepath.Join(dir, "changed.zip")
	rewriteZip(t, pkg, bad, "records.ndjson", func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"action":"deny"`), []byte(`"action":"allow"`), 1)
	})
	out.Reset()
	if code := run(ctx, []string{"verify-package", bad, "--public-key", pub}, &out, io.Discard); code != 1 ||
		!strings.Contains(out.String(), "PROBLEM: records.ndjson: hash-mismatch") || !strings.HasSuffix(out.String(), "FAILED\n") {
		t.Fatalf("changed package: exit %d\n%s", code, out.String())
	}
}

func TestExportUsage(t *testing.T) {
	for _, args := range [][]string{
		{"export"},
		{"export", "--config", "x.yaml", "--from", "1h"},
		{"verify-package", "a.zip", "b.zip"},
		{"verify-package", "a.zip", "--format", "xml"},
	} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// rewriteZip copies the zip at from to to with one file changed.
func rewriteZip(t *testing.T, from, to, name string, change func([]byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(from)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b = change(b)
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	if err := os.WriteFile(to, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
