package gateway_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/engine"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/gateway"
	"github.com/ehigate/ehigate/gateway/throttle"
	"github.com/ehigate/ehigate/gateway/throttle/throttletest"
)

// headerIdentity takes the requester's client id and subject from test
// headers.
type headerIdentity struct{}

func (headerIdentity) Identify(r *http.Request) (decision.Requester, error) {
	return decision.Requester{ClientID: r.Header.Get("X-Test-Client"), Subject: r.Header.Get("X-Test-Subject"),
		Issuer: "https://idp.example", Class: decision.Class(r.Header.Get("X-Test-Class")), Verified: true}, nil
}

var perfDocs = map[string]string{
	"impact_metrics":      "p99 latency above 4 s while one app sent 5,000 requests a minute",
	"threshold_rule":      "the rate below",
	"uniform_application": "the same limit for every client",
}

// throttlePolicy renders a throttle policy.
func throttlePolicy(id, match, key, rate string, burst int, onFailure string) string {
	return testPolicy(id, "throttle", "health-it-performance.assured-performance", match, "", "", fmt.Sprintf(
		"    throttle:\n      key: %s\n      rate: %s\n      burst: %d\n      on_store_failure: %s\n", key, rate, burst, onFailure), perfDocs)
}

func policySet(t testing.TB, policies ...string) *policy.Set {
	t.Helper()
	cat, err := exceptions.Load()
	if err != nil {
		t.Fatal(err)
	}
	y := "policies:\n" + strings.Join(policies, "")
	set, err := policy.Parse("test.yaml", []byte(y), policy.Options{Catalog: cat})
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return set
}

// patientEHR answers every read with a Patient and counts requests.
func patientEHR(calls *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls != nil {
			calls.Add(1)
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		fmt.Fprintf(w, `{"resourceType":"Patient","id":%q}`, id)
	})
}

// getAs sends a GET as client and returns the status, headers and body.
func getAs(t *testing.T, url, client string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Test-Client", client)
	req.Header.Set("X-Test-Subject", "user-of-"+client)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

var testClient = client()

func uniqueID(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func TestThrottleInProcess(t *testing.T) {
	e := engine.New(policySet(t, throttlePolicy("per-client", "interactions: [read]\n", "client_id", "1/h", 2, "allow")), engine.Options{})
	var calls atomic.Int64
	hs := newHarness(t, patientEHR(&calls), func(o *gateway.Options) { o.Decider = e; o.Identifier = headerIdentity{} })
	var statuses []int
	var throttled []byte
	var retry string
	for _, c := range []string{"app-a", "app-a", "app-a", "app-b"} {
		st, h, b := getAs(t, hs.base+"/Patient/p1", c)
		statuses = append(statuses, st)
		if st == 429 {
			throttled, retry = b, h.Get("Retry-After")
		}
	}
	if fmt.Sprint(statuses) != "[200 200 429 200]" || calls.Load() != 3 {
		t.Fatalf("statuses %v, upstream calls %d", statuses, calls.Load())
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 3500 || n > 3600 {
		t.Fatalf("Retry-After %q", retry)
	}
	validR4(t, throttled)
	var oo struct {
		Issue []struct {
			Code    string
			Details struct {
				Coding []struct{ Code string }
			}
			Diagnostics string
		}
	}
	json.Unmarshal(throttled, &oo)
	if is := oo.Issue[0]; is.Code != "throttled" || is.Details.Coding[0].Code != "health-it-performance.assured-performance" ||
		!strings.Contains(is.Diagnostics, "policy per-client@1") {
		t.Fatalf("notice %s", throttled)
	}
	recs := hs.records()
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action.String())
		if r.Throttle == nil || r.Throttle.Policy != "per-client" || r.Throttle.Burst != 2 || r.Throttle.Rate != 1.0/3600 ||
			!strings.HasPrefix(r.Throttle.Key, "client_id:") || strings.Contains(r.Throttle.Key, "app-") {
			t.Fatalf("throttle ref %+v", r.Throttle)
		}
	}
	if fmt.Sprint(actions) != "[allow allow throttle allow]" {
		t.Fatalf("actions %v", actions)
	}
	if r := recs[2]; r.Status != 429 || r.RetryAfter < 3500 || r.Exception == nil || r.Exception.Code != "health-it-performance.assured-performance" {
		t.Fatalf("throttled record %+v", r)
	}
	if recs[0].Throttle.Key != recs[2].Throttle.Key || recs[0].Throttle.Key == recs[3].Throttle.Key {
		t.Fatal("keys do not follow the client")
	}
}

// TestThrottleSharedByReplicas runs two gateways, each with its own Redis
// limiter, against one global limit: together they admit no more than
// burst + rate × elapsed.
func TestThrottleSharedByReplicas(t *testing.T) {
	url := throttletest.SharedURL(t)
	id := uniqueID("shared")
	set := policySet(t, throttlePolicy(id, "interactions: [read]\n", "global", "5/s", 3, "deny"))
	var gws []*harness
	for range 2 {
		lim, err := throttle.NewRedis(throttle.RedisOptions{URL: url, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lim.Close() })
		e := engine.New(set, engine.Options{})
		gws = append(gws, newHarness(t, patientEHR(nil), func(o *gateway.Options) { o.Decider = e; o.Limiter = lim }))
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				st, _, _ := getAs(t, gws[(i+j)%2].base+"/Patient/p1", "app")
				switch st {
				case 200:
					ok.Add(1)
				case 429:
					refused.Add(1)
				default:
					t.Errorf("status %d", st)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	limit := 3 + int64(5*elapsed.Seconds()) + 1
	if n := ok.Load(); n > limit || n < 3 {
		t.Fatalf("the two gateways admitted %d of 60 in %s, want between 3 and %d", n, elapsed, limit)
	}
	if refused.Load() == 0 && elapsed < 11*time.Second {
		t.Fatal("nothing was throttled")
	}
	var throttled int64
	for _, g := range gws {
		for _, r := range g.records() {
			if r.Action == decision.Throttle {
				throttled++
			}
		}
	}
	if throttled != refused.Load() {
		t.Fatalf("%d throttle records for %d 429 answers", throttled, refused.Load())
	}
}

// TestThrottleStoreFailure kills the Redis server mid-test: a policy that
// fails closed throttles, one that fails open allows; both are flagged.
func TestThrottleStoreFailure(t *testing.T) {
	srv := throttletest.Start(t)
	lim, err := throttle.NewRedis(throttle.RedisOptions{URL: srv.URL, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	set := policySet(t,
		throttlePolicy("fail-closed", "requester:\n  client_id: [closed]\n", "client_id", "100/s", 10, "deny"),
		throttlePolicy("fail-open", "requester:\n  client_id: [open]\n", "client_id", "100/s", 10, "allow"))
	e := engine.New(set, engine.Options{})
	hs := newHarness(t, patientEHR(nil), func(o *gateway.Options) { o.Decider = e; o.Limiter = lim; o.Identifier = headerIdentity{} })
	for _, c := range []string{"closed", "open"} {
		if st, _, _ := getAs(t, hs.base+"/Patient/p1", c); st != 200 {
			t.Fatalf("%s with Redis up: %d", c, st)
		}
	}
	srv.Kill()
	st, h, body := getAs(t, hs.base+"/Patient/p1", "closed")
	if st != 429 || h.Get("Retry-After") == "" || !strings.Contains(string(body), "throttled") {
		t.Fatalf("fail-closed with Redis down: %d %s", st, body)
	}
	if st, _, _ := getAs(t, hs.base+"/Patient/p1", "open"); st != 200 {
		t.Fatalf("fail-open with Redis down: %d", st)
	}
	recs := hs.records()
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	for i, want := range []struct {
		action  decision.Action
		flagged bool
	}{{decision.Allow, false}, {decision.Allow, false}, {decision.Throttle, true}, {decision.Allow, true}} {
		r := recs[i]
		if r.Action != want.action || r.HasFlag(decision.FlagThrottleStoreFailure) != want.flagged {
			t.Errorf("record %d: %s flags %v", i, r.Action, r.Flags)
		}
	}
	if r := recs[2]; r.Throttle == nil || r.Throttle.Policy != "fail-closed" {
		t.Errorf("fail-closed record %+v", r.Throttle)
	}
}

// TestThrottleWithRedaction: a request within the limit keeps the
// redaction that was decided with the throttle.
func TestThrottleWithRedaction(t *testing.T) {
	set := policySet(t,
		throttlePolicy("rate", "interactions: [read, search-type]\n", "global", "100/s", 100, "allow"),
		testPolicy("part2", "redact", "privacy.precondition-not-satisfied",
			"security_labels: [\"http://terminology.hl7.org/CodeSystem/v3-ActCode|ETH\"]\n", "", "", "", privacyB))
	e := engine.New(set, engine.Options{})
	hs := newHarness(t, redactionEHR(t), func(o *gateway.Options) { o.Decider = e })
	st, _, body := getAs(t, hs.base+"/Observation", "app")
	if st != 200 || strings.Contains(string(body), `"id":"eth"`) || !strings.Contains(string(body), `"id":"plain"`) {
		t.Fatalf("%d %s", st, body)
	}
	r := hs.records()[0]
	if r.Action != decision.Redact || r.Throttle == nil || len(r.Withheld) != 1 || r.Exception.Code != "privacy.precondition-not-satisfied" {
		t.Fatalf("record %+v", r)
	}
}
