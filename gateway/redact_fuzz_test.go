package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/fhirdata"
	"github.com/ehigate/ehigate/fhir/stream"
	"github.com/ehigate/ehigate/gateway"
)

// FuzzRedact runs response bodies through the redaction filter as the
// gateway sets it up (engine Withhold, disclosure entries, totals fixed,
// strict): it must not panic; a well-formed body must come out
// well-formed, without any resource the policy withholds.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"resource":{"resourceType":"MedicationRequest","id":"m"}},{"resource":{"resourceType":"Patient","id":"p"}}]}`,
		`{"resourceType":"Observation","id":"o","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]}}`,
		`{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Condition","contained":[{"resourceType":"MedicationRequest"}]}}]}`,
	} {
		f.Add([]byte(s))
	}
	if dir, ok := fhirdata.Lookup(); ok {
		for _, name := range []string{"Bundle-bundle-response.json", "Bundle-father.json", "Observation-example.json", "Bundle-bundle-transaction.json"} {
			if b, err := os.ReadFile(dir + "/r4-examples/" + name); err == nil {
				f.Add(b)
			}
		}
	}
	e := engine.New(dataSet(f), engine.Options{})
	d := e.Decide(context.Background(), &fhir.Request{Interaction: fhir.SearchSystem}, &decision.Requester{}, time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		var withheld [][]byte
		flt := stream.NewFilter(&out, stream.Options{
			Strict: true, FixTotal: true, MaxResource: 1 << 20,
			Inspect: func(r *fhir.Resource) stream.Verdict {
				w, tag := d.Withhold(r)
				if w {
					withheld = append(withheld, append([]byte(nil), r.Raw...))
				}
				return stream.Verdict{Withhold: w, Tag: tag}
			},
			Disclose: func(ws []stream.Withheld) []byte { return gateway.DisclosureEntry("01JZ8Y3Q7W4M0V5T2K9D6R1C3B", d, ws) },
		})
		_, werr := flt.Write(in)
		cerr := flt.Close()
		if werr != nil || cerr != nil || !json.Valid(in) || flt.Stats().Uninspected > 0 {
			return
		}
		if !json.Valid(out.Bytes()) && !flt.Stats().WithheldAll {
			t.Fatalf("valid input, invalid output:\n%s\n->\n%s", in, out.Bytes())
		}
		for _, w := range withheld {
			if len(w) > 2 && bytes.Contains(out.Bytes(), w) {
				t.Fatalf("withheld resource in the output: %s", w)
			}
		}
	})
}
