package export

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/ehigate/ehigate/decision"
)

// FuzzVerify checks packages an investigator may be handed, whatever
// their bytes: a package made by Export with one file replaced by
// arbitrary data (records, entries, checkpoints, AuditEvents, a policy
// or the manifest), or arbitrary bytes as the whole zip. Verify must not
// fail to answer, and must not accept a package that is not the one
// exported.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, 4)
	pkg := fx.export(f, Options{})
	names, files := files(f, pkg)
	for _, n := range []string{FileRecords, FileEntries, FileCheckpoints, FileAuditEvents, FileManifest, "policies/app-rate-limit@1.json"} {
		f.Add(n, files[n], false)
		f.Add(n, files[n], true)
	}
	f.Add("", pkg, false)
	f.Add(FileEntries, []byte(`{"chain":"gw-a","seq":1,"payload_base64":"eyJ9"}`+"\n"), true)
	keys := []ed25519.PublicKey{fx.key.Public().(ed25519.PublicKey)}
	f.Fuzz(func(t *testing.T, name string, data []byte, resign bool) {
		var zipped []byte
		if name == "" {
			zipped = data
		} else {
			fs := map[string][]byte{}
			for k, v := range files {
				fs[k] = v
			}
			if _, ok := fs[name]; !ok {
				return
			}
			fs[name] = data
			var key ed25519.PrivateKey
			if name == FileManifest {
				resign = false // re-signing rewrites the manifest
			}
			if resign {
				key = fx.key
			}
			zipped = rezip(t, names, fs, key)
		}
		res, err := Verify(context.Background(), bytes.NewReader(zipped), int64(len(zipped)), VerifyOptions{Keys: keys, Transition: applySent})
		if err != nil {
			// Only reading can fail, and these bytes are in memory.
			t.Fatalf("Verify: %v", err)
		}
		// An outsider's change always shows; an insider re-signing may
		// change what carries no meaning (blank lines), so only an
		// outsider's is checked.
		if res.OK() && !resign && name != "" && !bytes.Equal(data, files[name]) {
			t.Fatalf("a package with %s changed verifies", name)
		}
	})
}

// FuzzEntryLine: any entry read back from entries.ndjson writes back to
// the same line and keeps its payload byte for byte.
func FuzzEntryLine(f *testing.F) {
	f.Add([]byte(`{"chain":"gw","seq":3,"kind":"decision","record_id":"r1","at":"2026-11-02T09:00:01Z","payload":{"id":"r1","a":"<&>"},"prev_hash":"00","hash":"11"}`))
	f.Add([]byte(`{"chain":"gw","seq":4,"kind":"completion","at":"2026-11-02T09:00:01.123456Z","payload_base64":"eyAiaWQiOiAxIH0=","prev_hash":"00","hash":"11"}`))
	f.Add([]byte(`{"payload":{ "spaced" : true }}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var got []decision.Entry
		if err := readEntries(bytes.NewReader(line), func(e decision.Entry) error { got = append(got, e); return nil }); err != nil {
			return
		}
		for _, e := range got {
			var buf bytes.Buffer
			if err := newEntryWriter(&buf).write(e); err != nil {
				t.Fatal(err)
			}
			var back []decision.Entry
			if err := readEntries(&buf, func(e decision.Entry) error { back = append(back, e); return nil }); err != nil {
				t.Fatalf("a written line does not read back: %v\n%s", err, buf.Bytes())
			}
			if len(back) != 1 || !bytes.Equal(back[0].Payload, e.Payload) || back[0].Seq != e.Seq || back[0].Chain != e.Chain ||
				back[0].At.UnixMicro() != e.At.UnixMicro() || back[0].RecordID != e.RecordID {
				t.Fatalf("entry changed:\n%+v\n%+v", e, back)
			}
		}
	})
}
