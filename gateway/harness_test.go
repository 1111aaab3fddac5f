package gateway_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/store"
	"github.com/ehigate/ehigate/decision/store/sqlite"
	"github.com/ehigate/ehigate/gateway"
)

// harness is a gateway in front of an httptest upstream, recording into a
// real SQLite store.
type harness struct {
	t      *testing.T
	up     *httptest.Server
	gw     *httptest.Server
	st     *sqlite.Store
	j      *journal.Writer
	h      *gateway.Handler
	base   string // the gateway's public FHIR base
	upBase string // the upstream's FHIR base
	closed bool
}

// newHarness starts upstream (serving its FHIR base at /baseR4) and a
// gateway publishing it at /fhir. mutate may change the options.
func newHarness(t *testing.T, upstream http.Handler, mutate ...func(*gateway.Options)) *harness {
	t.Helper()
	hs := &harness{t: t}
	hs.up = httptest.NewServer(upstream)
	t.Cleanup(hs.up.Close)
	hs.upBase = hs.up.URL + "/baseR4"
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	hs.st = st
	t.Cleanup(func() { st.Close() })
	hs.j, err = journal.Open(context.Background(), st, journal.Options{Chain: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hs.gw = httptest.NewUnstartedServer(nil)
	hs.base = "http://" + hs.gw.Listener.Addr().String() + "/fhir"
	pub, _ := url.Parse(hs.base)
	upu, _ := url.Parse(hs.upBase)
	opts := gateway.Options{
		PublicBase: pub,
		Upstream:   upu,
		Transport:  gateway.NewTransport(gateway.TransportOptions{ResponseHeaderTimeout: 5 * time.Second}),
		Limits:     gateway.Limits{MaxHeaderBytes: 64 << 10, MaxRequestBody: 8 << 20, InspectBody: 1 << 20, MaxResource: 16 << 20},
		Journal:    hs.j,
		Links:      st,
		TempDir:    t.TempDir(),
	}
	for _, m := range mutate {
		m(&opts)
	}
	hs.h, err = gateway.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs.gw.Config.Handler = hs.h
	hs.gw.Start()
	t.Cleanup(hs.close)
	return hs
}

// close stops the gateway (waiting for in-flight requests) and flushes
// the journal, so that every record is complete in the store.
func (hs *harness) close() {
	if hs.closed {
		return
	}
	hs.closed = true
	hs.gw.CloseClientConnections()
	hs.gw.Close()
	if err := hs.j.Close(context.Background()); err != nil {
		hs.t.Error(err)
	}
}

// records closes the harness and returns every record, oldest first.
func (hs *harness) records() []decision.Record {
	hs.t.Helper()
	hs.close()
	var out []decision.Record
	q := store.Query{Ascending: true, Limit: 10000}
	for {
		recs, next, err := hs.st.Records(context.Background(), q)
		if err != nil {
			hs.t.Fatal(err)
		}
		out = append(out, recs...)
		if next == "" {
			return out
		}
		q.Cursor = next
	}
}

// byID indexes records by decision id, failing on duplicates.
func byID(t *testing.T, recs []decision.Record) map[string]decision.Record {
	t.Helper()
	m := make(map[string]decision.Record, len(recs))
	for _, r := range recs {
		if _, dup := m[r.ID]; dup {
			t.Fatalf("record %s appears twice", r.ID)
		}
		m[r.ID] = r
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// client returns an HTTP client that does not decompress or follow
// redirects, so tests see exactly what the gateway sent.
func client() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{DisableCompression: true, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}
