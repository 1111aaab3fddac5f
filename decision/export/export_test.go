package export

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir/audit"

	_ "modernc.org/sqlite"
)

func mustManifest(t testing.TB, b []byte) *Manifest {
	t.Helper()
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func lines(b []byte) []string {
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestRoundTrip exports a whole window and verifies it offline: every
// file is there and hashed, the chains verify from signed checkpoints,
// every record is the one its entries make, each has its AuditEvent, and
// both versions of a policy changed in the window are there.
func TestRoundTrip(t *testing.T) {
	f := newFixture(t, 120)
	pkg := f.export(t, Options{})
	res := f.verify(t, pkg)
	var out strings.Builder
	res.WriteText(&out)
	if !res.OK() {
		t.Fatalf("package does not verify:\n%s", out.String())
	}
	// Each record names two patients (one asked for, one in the response)
	// but one, so has two events.
	if !res.KeyTrusted || !res.StoreOK || res.Records != 120 || res.AuditEvents != 239 {
		t.Fatalf("result %+v\n%s", res, out.String())
	}
	names, fs := files(t, pkg)
	for _, want := range []string{FileRecords, FileEntries, FileAuditEvents, FileCheckpoints, FileCatalog, FilePublicKey,
		FileVerification, FileWrittenHTML, FileWrittenMD, FileReport, FileManifest, FileSignature,
		"policies/harm-pat-0412-representative@1.json", "policies/harm-pat-0412-representative@2.json", "policies/part2-non-treating@1.json"} {
		if _, ok := fs[want]; !ok {
			t.Errorf("package lacks %s (has %v)", want, names)
		}
	}
	man := mustManifest(t, fs[FileManifest])
	if man.Records != 120 || man.Policies != 8 || len(man.Files) != len(names)-2 || man.KeyID == "" {
		t.Errorf("manifest %+v", man)
	}
	// Each record is the store's record, as its projection holds it.
	ctx := context.Background()
	recs := lines(fs[FileRecords])
	if len(recs) != 120 {
		t.Fatalf("%d records", len(recs))
	}
	sent := 0
	for _, l := range recs {
		var r decision.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		stored, err := f.st.Record(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored.Entries = nil
		if want, _ := json.Marshal(&stored); string(want) != l {
			t.Fatalf("record %s:\n%s\nstore:\n%s", r.ID, l, want)
		}
		if r.Notice != nil && r.Notice.SentAt != nil {
			sent++
		}
	}
	if sent == 0 {
		t.Error("no notice marked sent from the command line's chain came through")
	}
	// The whole window: the access entry of the command line is there.
	if !bytes.Contains(fs[FileEntries], []byte(`"kind":"access"`)) {
		t.Error("entries.ndjson lacks the access entry of the window")
	}
	for name, want := range map[string][]string{
		FileWrittenHTML: {"harm-pat-0412-representative", "part2-non-treating", "Version history"},
		FileWrittenMD:   {"## harm-pat-0412-representative (version 1, deny)", "## harm-pat-0412-representative (version 2, deny)"},
		FileReport:      {"<b>120</b>records", "undocumented restrictions", "app-rate-limit@1", "preventing-harm.individualized-determination"},
		FileCatalog:     {`"version": "2026.07.1"`},
		FileAuditEvents: {`"resourceType":"Bundle"`, `"type":"collection"`, audit.ExceptionExtension},
	} {
		for _, w := range want {
			if !bytes.Contains(fs[name], []byte(w)) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
	}
}

// TestFiltered exports one patient's records: the package holds only the
// chain ranges around them (and the policy-set entries), and verifies.
func TestFiltered(t *testing.T) {
	f := newFixture(t, 200)
	whole := mustManifest(t, fileOf(t, f.export(t, Options{}), FileManifest))
	pkg := f.export(t, Options{Filter: Filter{Patient: "rare"}})
	res := f.verify(t, pkg)
	if !res.OK() {
		var out strings.Builder
		res.WriteText(&out)
		t.Fatalf("does not verify:\n%s", out.String())
	}
	_, fs := files(t, pkg)
	man := mustManifest(t, fs[FileManifest])
	if man.Records != 1 || man.Entries >= whole.Entries/2 {
		t.Fatalf("filtered package: %d records, %d entries; whole: %d, %d", man.Records, man.Entries, whole.Records, whole.Entries)
	}
	for _, l := range lines(fs[FileRecords]) {
		var r decision.Record
		json.Unmarshal([]byte(l), &r)
		if !containsString(r.Patients, "rare") {
			t.Errorf("record %s names %v", r.ID, r.Patients)
		}
	}
	if len(man.Segments) < 2 {
		t.Errorf("segments %+v", man.Segments)
	}
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func fileOf(t testing.TB, pkg []byte, name string) []byte {
	_, fs := files(t, pkg)
	return fs[name]
}

// TestTamper changes one file of a package, each kind in turn, as an
// outsider (the manifest no longer matches) and as an insider holding
// the journal key (the manifest re-hashed and signed again): verification
// fails, naming the file and why.
func TestTamper(t *testing.T) {
	f := newFixture(t, 60)
	pkg := f.export(t, Options{})
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	type edit func(t *testing.T, fs map[string][]byte)
	replace := func(name, old, new string) edit {
		return func(t *testing.T, fs map[string][]byte) {
			if !bytes.Contains(fs[name], []byte(old)) {
				t.Fatalf("%s lacks %q", name, old)
			}
			fs[name] = bytes.Replace(fs[name], []byte(old), []byte(new), 1)
		}
	}
	tests := []struct {
		name    string
		edit    edit
		insider bool
		file    string
		reason  Reason
		keys    []ed25519.PublicKey
	}{
		{"a record", replace(FileRecords, `"action":"deny"`, `"action":"allow"`), false, FileRecords, ReasonHash, nil},
		{"a record, re-signed", replace(FileRecords, `"action":"deny"`, `"action":"allow"`), true, FileRecords, ReasonRecord, nil},
		{"an entry", replace(FileEntries, `"status":403`, `"status":200`), false, FileEntries, ReasonHash, nil},
		{"an entry, re-signed", replace(FileEntries, `"status":403`, `"status":200`), true, FileEntries, ReasonChain, nil},
		{"the manifest", replace(FileManifest, `"records": 60`, `"records": 59`), false, FileSignature, ReasonSignature, nil},
		{"the signature", func(t *testing.T, fs map[string][]byte) { fs[FileSignature] = signManifest(other, fs[FileManifest]) }, false, FileSignature, ReasonSignature, nil},
		{"a policy text", replace("policies/part2-non-treating@1.json", "Chief Privacy Officer", "Privacy intern"), false, "policies/part2-non-treating@1.json", ReasonHash, nil},
		{"a policy text, re-signed", replace("policies/part2-non-treating@1.json", "Chief Privacy Officer", "Privacy intern"), true, "policies/part2-non-treating@1.json", ReasonPolicy, nil},
		{"an audit event removed, re-signed", func(t *testing.T, fs map[string][]byte) {
			b := fs[FileAuditEvents]
			i := bytes.Index(b, []byte(`,{"resource":`))
			j := bytes.Index(b[i+1:], []byte(`,{"resource":`))
			fs[FileAuditEvents] = append(b[:i:i], b[i+1+j:]...)
		}, true, FileAuditEvents, ReasonAuditEvents, nil},
		{"a file removed", func(t *testing.T, fs map[string][]byte) { delete(fs, FileReport) }, false, FileReport, ReasonMissingFile, nil},
		{"a file added", func(t *testing.T, fs map[string][]byte) { fs["notes.txt"] = []byte("x") }, false, "notes.txt", ReasonExtraFile, nil},
		{"another organisation's key", func(t *testing.T, fs map[string][]byte) {}, false, FileManifest, ReasonKey, []ed25519.PublicKey{other.Public().(ed25519.PublicKey)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names, fs := files(t, pkg)
			tc.edit(t, fs)
			if _, ok := fs["notes.txt"]; ok {
				names = append(names, "notes.txt")
			}
			var key ed25519.PrivateKey
			if tc.insider {
				key = f.key
			}
			res := f.verify(t, rezip(t, names, fs, key), tc.keys...)
			var out strings.Builder
			res.WriteText(&out)
			if res.OK() || !strings.HasSuffix(out.String(), "FAILED\n") {
				t.Fatalf("tampered package verifies:\n%s", out.String())
			}
			found := false
			for _, p := range res.Problems {
				if p.File == tc.file && p.Reason == tc.reason {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s problem with %s:\n%s", tc.reason, tc.file, out.String())
			}
		})
	}
	// Untouched, it verifies; rezipped unchanged, too.
	names, fs := files(t, pkg)
	if res := f.verify(t, rezip(t, names, fs, nil)); !res.OK() {
		t.Fatalf("rezipped package: %+v", res.Problems)
	}
}

// TestProjectionTampered: the store's projection was edited behind the
// journal's back. The package carries the records as their entries make
// them, says in verification.json that the store did not verify, and
// still verifies itself.
func TestProjectionTampered(t *testing.T) {
	f := newFixture(t, 40)
	db, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE records SET doc = replace(doc, '"status":403', '"status":200') WHERE id = '01KREC000001'`); err != nil {
		t.Fatal(err)
	}
	pkg := f.export(t, Options{})
	res := f.verify(t, pkg)
	if !res.OK() || res.StoreOK {
		t.Fatalf("result %+v", res)
	}
	v := fileOf(t, pkg, FileVerification)
	if !bytes.Contains(v, []byte(`"record": "01KREC000001"`)) || !bytes.Contains(v, []byte("status")) {
		t.Fatalf("verification.json:\n%s", v)
	}
	if !bytes.Contains(fileOf(t, pkg, FileRecords), []byte(`{"id":"01KREC000001"`)) {
		t.Fatal("record missing")
	}
}

func TestVerifyNotAPackage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("not a zip"), rezip(t, []string{"x"}, map[string][]byte{"x": []byte("y")}, nil)} {
		res, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK() || (res.Problems[0].Reason != ReasonFormat && res.Problems[0].Reason != ReasonMissingFile) {
			t.Fatalf("%q: %+v", b, res.Problems)
		}
	}
}
