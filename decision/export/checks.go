package export

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ehigate/ehigate/decision/journal/verify"
)

// chains turns the verification report into problems.
func (res *Result) chains(rep *verify.Report, man *Manifest, src *pkgSource) {
	for _, c := range rep.Chains {
		if c.Break != nil {
			res.problem(FileEntries, ReasonChain, "chain %s: %s", c.Chain, c.Break)
		}
	}
	for _, b := range rep.Records.Breaks {
		res.problem(FileRecords, ReasonRecord, "%s", b)
	}
	if n := rep.Records.Problems - int64(len(rep.Records.Breaks)); n > 0 {
		res.problem(FileRecords, ReasonRecord, "%d more record(s) differ from their entries", n)
	}
	if rep.Records.Unchecked > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d record(s) with transition entries were not recomputed (no transition rules)", rep.Records.Unchecked))
	}
	res.Records = len(src.records)
	if res.Records != man.Records {
		res.problem(FileRecords, ReasonRecord, "holds %d records, the manifest says %d", res.Records, man.Records)
	}
}

// auditEvents checks that auditevents.json holds exactly the events of
// the records: one per record, or per patient of a record.
func (res *Result) auditEvents(files map[string]*zip.File, src *pkgSource) error {
	f, ok := files[FileAuditEvents]
	if !ok {
		return nil
	}
	want := map[string]int{}
	for _, r := range src.records {
		for _, id := range r.eventIDs {
			want[id]++
		}
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrFormat, FileAuditEvents, err)
	}
	defer rc.Close()
	extra := 0
	err = eachBundleEntry(rc, func(typ, id string) {
		res.AuditEvents++
		if typ != "AuditEvent" || want[id] == 0 {
			extra++
			return
		}
		want[id]--
	})
	if err != nil {
		res.problem(FileAuditEvents, ReasonFormat, "%v", err)
		return nil
	}
	missing := 0
	for _, n := range want {
		missing += n
	}
	if missing > 0 || extra > 0 {
		res.problem(FileAuditEvents, ReasonAuditEvents, "%d event(s) of the records are missing and %d event(s) belong to no record", missing, extra)
	}
	return nil
}

// eachBundleEntry streams a Bundle, calling fn with each entry's resource
// type and id.
func eachBundleEntry(r io.Reader, fn func(typ, id string)) error {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if t != "entry" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return fmt.Errorf("entry is not an array")
		}
		for dec.More() {
			var e struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
					ID           string `json:"id"`
				} `json:"resource"`
			}
			if err := dec.Decode(&e); err != nil {
				return err
			}
			fn(e.Resource.ResourceType, e.Resource.ID)
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	return nil
}

// policies checks each policy text against its SHA-256 and the policy-set
// entry that recorded it, and the records' policy references against the
// texts.
func (res *Result) policies(files map[string]*zip.File, src *pkgSource) error {
	shas := map[string][]string{} // id@version -> sha256s of the files
	for name, f := range files {
		if !strings.HasPrefix(name, PoliciesDir) || !strings.HasSuffix(name, policyFileSuffix) {
			continue
		}
		b, err := readAll(f, manifestMaxSize)
		if err != nil {
			res.problem(name, ReasonFormat, "cannot be read: %v", err)
			continue
		}
		var pf policyFile
		if err := json.Unmarshal(b, &pf); err != nil {
			res.problem(name, ReasonFormat, "not a policy file: %v", err)
			continue
		}
		res.Policies++
		shas[pf.ID+"@"+pf.Version] = append(shas[pf.ID+"@"+pf.Version], pf.SHA256)
		if got := textSHA256(pf.Text); got != pf.SHA256 {
			res.problem(name, ReasonPolicy, "the text's SHA-256 is %.12s…, not the %.12s… it states (the text was changed)", got, pf.SHA256)
			continue
		}
		if t, ok := src.texts[pf.ID+"@"+pf.Version+"@"+pf.SHA256]; !ok || !bytes.Equal(t, pf.Text) {
			res.problem(name, ReasonPolicy, "the text is not the one a policy-set entry of %s recorded", FileEntries)
		}
	}
	unknown := map[string]bool{}
	for _, r := range src.records {
		for _, p := range r.policies {
			if p.Consent != "" || p.SHA256 == "" {
				continue
			}
			key := p.ID + "@" + p.Version
			got, ok := shas[key]
			switch {
			case !ok:
				unknown[key] = true
			case !contains(got, p.SHA256):
				res.problem(FileRecords, ReasonPolicy, "record %s cites %s with text %.12s…, not the text in the package", r.id, key, p.SHA256)
			}
		}
	}
	for _, key := range sortedKeys(unknown) {
		res.Notes = append(res.Notes, "records cite "+key+", whose text the package does not hold (not a policy of the set, e.g. an upstream refusal entry)")
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// hashFile returns the hex SHA-256 and size of a file's content.
func hashFile(f *zip.File) (string, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// readSmall reads a whole file of at most limit bytes.
func readSmall(files map[string]*zip.File, name string, limit int64) ([]byte, error) {
	f, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("%s is not in the package", name)
	}
	return readAll(f, limit)
}

func readAll(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}
