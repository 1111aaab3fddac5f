package gateway

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/fhir"
	"github.com/ehigate/ehigate/fhir/fhirdata"
)

// FuzzUpstreamRefusal feeds arbitrary upstream answers (untrusted) to the
// refusal detector: an error answer's body is peeked at and must reach the
// requester byte for byte, its issue codes are unique, and matching them
// against documented refusals never panics.
func FuzzUpstreamRefusal(f *testing.F) {
	if d, ok := fhirdata.Lookup(); ok {
		files, _ := filepath.Glob(filepath.Join(d, "r4-examples", "OperationOutcome-*.json"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden"},{"code":"forbidden"},{"code":"throttled"}]}`))
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":{"code":1}}`))
	documented := []UpstreamRefusal{
		{Ref: decision.PolicyRef{ID: "a"}, Statuses: []int{503}},
		{Ref: decision.PolicyRef{ID: "b"}, IssueCodes: []string{"suppressed"}, Interactions: []string{"search-type"}},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		x := &exchange{dec: decision.Decision{Action: decision.Allow}, req: &fhir.Request{Interaction: fhir.SearchType}}
		resp := &http.Response{StatusCode: 503, Header: http.Header{"Content-Type": {"application/fhir+json"}},
			Body: io.NopCloser(bytes.NewReader(body))}
		x.detectRefusal(resp)
		got, err := io.ReadAll(resp.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("the body was changed by peeking: %v", err)
		}
		if x.refusal == nil || x.refusal.status != 503 {
			t.Fatal("a 503 was not noted")
		}
		codes := x.refusal.codes
		if len(slices.Compact(slices.Sorted(slices.Values(codes)))) != len(codes) {
			t.Fatalf("codes repeat: %v", codes)
		}
		x.refusal.action()
		for i := range documented {
			documented[i].documents(x.refusal, x.req)
		}
		if r, err := fhir.NewResource(body); err == nil && r.Type == "OperationOutcome" {
			x.noteOutcome(r)
		}
	})
}
