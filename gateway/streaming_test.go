package gateway_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
)

// TestClientHangsUpMidBody: the client goes away while a large Bundle is
// streaming; the request still has exactly one complete record, flagged.
func TestClientHangsUpMidBody(t *testing.T) {
	release := make(chan struct{})
	upstreamDone := make(chan struct{})
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(upstreamDone)
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","entry":[`)
		entry := `{"fullUrl":"http://x/Observation/1","resource":{"resourceType":"Observation","id":"1","subject":{"reference":"Patient/p1"},"note":[{"text":"` + strings.Repeat("n", 4000) + `"}]}}`
		for i := 0; ; i++ {
			if i > 0 {
				io.WriteString(w, ",")
			}
			if _, err := io.WriteString(w, entry); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if i == 50 {
				<-release // the client hangs up while we wait
			}
			if i > 5000 {
				return
			}
		}
	}))
	resp, err := client().Get(hs.base + "/Observation?patient=p1")
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Ehigate-Decision")
	buf := make([]byte, 32<<10)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // hang up mid-body
	close(release)
	select {
	case <-upstreamDone:
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream request was not cancelled after the client left")
	}
	recs := byID(t, hs.records())
	r, ok := recs[id]
	if !ok || len(recs) != 1 {
		t.Fatalf("want one record for %s, have %d", id, len(recs))
	}
	if r.FulfilledAt == nil || !r.HasFlag(decision.FlagClientDisconnected) || r.BytesOut == 0 {
		t.Fatalf("record: fulfilled %v flags %v bytes %d", r.FulfilledAt, r.Flags, r.BytesOut)
	}
}

// TestGzipPassesThrough: a gzip-encoded upstream response reaches a client
// that accepts gzip still gzip-encoded, with the base rewritten inside.
func TestGzipPassesThrough(t *testing.T) {
	var upBase string
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("upstream Accept-Encoding = %q, want gzip", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		fmt.Fprintf(zw, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"%s/Patient?page=2"}],"entry":[{"fullUrl":"%s/Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}`, upBase, upBase)
		zw.Close()
	}))
	upBase = hs.upBase
	req, _ := http.NewRequest(http.MethodGet, hs.base+"/Patient", nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(hs.base+"/Patient?page=2")) || bytes.Contains(body, []byte(hs.upBase)) {
		t.Fatalf("body not rewritten: %s", body)
	}
	r := byID(t, hs.records())[resp.Header.Get("X-Ehigate-Decision")]
	if r.ResourcesReturned["Patient"] != 1 || r.HasFlag(decision.FlagResponseNotInspected) {
		t.Fatalf("gzip body not scanned: %+v", r)
	}
}

// TestRewritesEverywhere: escaped slashes in JSON, XML bodies, NDJSON and
// the Location, Content-Location and Link headers all point at the gateway;
// opaque bodies are left alone; a look-alike base is not rewritten.
func TestRewritesEverywhere(t *testing.T) {
	var up string
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		esc := strings.ReplaceAll(up, "/", `\/`)
		switch r.URL.Path {
		case "/baseR4/Patient":
			w.Header().Set("Location", up+"/Patient/1/_history/1")
			w.Header().Set("Content-Location", up+"/Patient/1/_history/1")
			w.Header().Set("Link", "<"+up+"/Patient?page=2>; rel=\"next\"")
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"resourceType":"Patient","id":"1","link":[{"other":{"reference":"%s/Patient/2"}}],"text":{"div":"<div>%s\/Patient\/3 %s2/Patient/4</div>"}}`, up, esc, up)
		case "/baseR4/Patient/1":
			w.Header().Set("Content-Type", "application/fhir+xml")
			fmt.Fprintf(w, `<Patient xmlns="http://hl7.org/fhir"><link><other><reference value="%s/Patient/2"/></other></link></Patient>`, up)
		case "/baseR4/Binary/1":
			w.Header().Set("Content-Type", "application/pdf")
			fmt.Fprintf(w, "%%PDF %s", up)
		case "/baseR4/file.ndjson":
			w.Header().Set("Content-Type", "application/fhir+ndjson")
			fmt.Fprintf(w, "{\"resourceType\":\"Patient\",\"id\":\"1\",\"link\":[{\"other\":{\"reference\":\"%s/Patient/2\"}}]}\n{\"resourceType\":\"Patient\",\"id\":\"2\"}\n", up)
		}
	}))
	up = hs.upBase
	c := client()
	resp, err := c.Post(hs.base+"/Patient", "application/fhir+json", strings.NewReader(`{"resourceType":"Patient"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, h := range []string{"Location", "Content-Location"} {
		if got := resp.Header.Get(h); got != hs.base+"/Patient/1/_history/1" {
			t.Errorf("%s = %q", h, got)
		}
	}
	if got := resp.Header.Get("Link"); !strings.Contains(got, hs.base+"/Patient?page=2") {
		t.Errorf("Link = %q", got)
	}
	escBase := strings.ReplaceAll(hs.base, "/", `\/`)
	if !bytes.Contains(body, []byte(escBase+`\/Patient\/3`)) || !bytes.Contains(body, []byte(hs.base+"/Patient/2")) {
		t.Errorf("JSON body not rewritten: %s", body)
	}
	if !bytes.Contains(body, []byte(hs.upBase+"2/Patient/4")) {
		t.Errorf("a look-alike base was rewritten: %s", body)
	}
	_, xml := get(t, c, hs.base+"/Patient/1")
	if !bytes.Contains(xml, []byte(`value="`+hs.base+`/Patient/2"`)) {
		t.Errorf("XML not rewritten: %s", xml)
	}
	_, pdf := get(t, c, hs.base+"/Binary/1")
	if string(pdf) != "%PDF "+hs.upBase {
		t.Errorf("opaque body changed: %q", pdf)
	}
}

// TestHopByHopAndForwarded: hop-by-hop headers do not cross the gateway
// in either direction; X-Forwarded-For/Proto/Host are set.
func TestHopByHopAndForwarded(t *testing.T) {
	var seen http.Header
	hs := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		seen.Set("Host", r.Host)
		w.Header().Set("Connection", "X-Upstream-Hop")
		w.Header().Set("X-Upstream-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Ehigate-Decision", "forged")
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"Patient","id":"1"}`)
	}))
	req, _ := http.NewRequest(http.MethodGet, hs.base+"/Patient/1", nil)
	req.Header.Set("Connection", "X-Client-Hop")
	req.Header.Set("X-Client-Hop", "1")
	req.Header.Set("Proxy-Authorization", "Basic secret")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("X-Ehigate-Decision", "forged")
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"X-Client-Hop", "Proxy-Authorization", "X-Ehigate-Decision"} {
		if seen.Get(h) != "" {
			t.Errorf("upstream saw %s", h)
		}
	}
	if got := seen.Get("X-Forwarded-For"); got != "10.0.0.1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", got)
	}
	if seen.Get("X-Forwarded-Proto") != "http" || !strings.HasPrefix(hs.base, "http://"+seen.Get("X-Forwarded-Host")) {
		t.Errorf("X-Forwarded-Proto/Host = %q %q", seen.Get("X-Forwarded-Proto"), seen.Get("X-Forwarded-Host"))
	}
	for _, h := range []string{"X-Upstream-Hop", "Keep-Alive"} {
		if resp.Header.Get(h) != "" {
			t.Errorf("client got %s", h)
		}
	}
	if got := resp.Header.Values("X-Ehigate-Decision"); len(got) != 1 || got[0] == "forged" {
		t.Errorf("decision header = %v", got)
	}
}
