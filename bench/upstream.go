package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/fhir/fhirdata"
	"github.com/ehigate/ehigate/gateway/demo"
)

// runUpstream serves, under /fhir, a searchset Bundle of n entries for
// every GET (a Synthea-sized search page), and at /fhir/Binary/big a
// searchset Bundle streamed to the requested size (?bytes=N).
func runUpstream(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	entries := fs.Int("entries", 20, "entries per search page")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	page := searchPage(*entries)
	big := bigEntries()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json;charset=utf-8")
		if r.URL.Path == "/fhir/Observation/$stream" {
			n, _ := strconv.ParseInt(r.URL.Query().Get("bytes"), 10, 64)
			streamBundle(w, big, n)
			return
		}
		base := "http://" + r.Host + "/fhir"
		w.Write(bytes.ReplaceAll(page, []byte("BASE"), []byte(base)))
	})}
	fmt.Println(ln.Addr().String()) // the parent reads the address
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// resources returns real resources, compact JSON: from the shared Synthea
// data when it is present, otherwise generated demo patients.
func resources() []json.RawMessage {
	if dir, ok := fhirdata.Lookup(); ok {
		files, _ := filepath.Glob(filepath.Join(dir, "synthea", "*.json"))
		sort.Strings(files)
		var out []json.RawMessage
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			var b struct {
				Entry []struct {
					Resource json.RawMessage `json:"resource"`
				} `json:"entry"`
			}
			if json.Unmarshal(data, &b) != nil {
				continue
			}
			for _, e := range b.Entry {
				// Served compact, as FHIR servers answer API clients.
				var c bytes.Buffer
				if json.Compact(&c, e.Resource) == nil {
					out = append(out, c.Bytes())
				}
			}
			if len(out) > 2000 {
				return out
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return demo.Generate(50, 1, time.Now())
}

// searchPage builds a searchset Bundle of n Observations with absolute
// links under the placeholder BASE.
func searchPage(n int) []byte {
	var obs []json.RawMessage
	for _, r := range resources() {
		var h struct{ ResourceType string }
		json.Unmarshal(r, &h)
		if h.ResourceType == "Observation" {
			obs = append(obs, r)
		}
		if len(obs) == n {
			break
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"resourceType":"Bundle","type":"searchset","total":%d,"link":[{"relation":"self","url":"BASE/Observation?patient=p&_count=%d"},{"relation":"next","url":"BASE/Observation?patient=p&_count=%d&_offset=%d"}],"entry":[`, 10*n, n, n, n)
	for i, r := range obs {
		if i > 0 {
			b.WriteByte(',')
		}
		var h struct{ ID string }
		json.Unmarshal(r, &h)
		fmt.Fprintf(&b, `{"fullUrl":"BASE/Observation/%s","resource":%s,"search":{"mode":"match"}}`, h.ID, r)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func bigEntries() [][]byte {
	var out [][]byte
	for _, r := range resources() {
		out = append(out, []byte(`{"resource":`+string(r)+`,"search":{"mode":"match"}}`))
		if len(out) == 500 {
			break
		}
	}
	return out
}

// streamBundle writes a searchset Bundle of about n bytes, entry by entry.
func streamBundle(w io.Writer, entries [][]byte, n int64) {
	var written int64
	put := func(b []byte) bool {
		k, err := w.Write(b)
		written += int64(k)
		return err == nil
	}
	put([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[`))
	for i := 0; written < n; i++ {
		if i > 0 && !put([]byte(",")) {
			return
		}
		if !put(entries[i%len(entries)]) {
			return
		}
	}
	put([]byte("]}"))
}

// upstreamProcess starts this program as an upstream child process.
func upstreamProcess(ctx context.Context, entries int) (*child, string, error) {
	c, addr, err := startSelf(ctx, "upstream", "-entries", strconv.Itoa(entries))
	if err != nil {
		return nil, "", err
	}
	return c, "http://" + addr + "/fhir", nil
}

// ehigateConfig writes a gateway configuration for a benchmark run.
func ehigateConfig(dir, listen, upstream string) (string, error) {
	text := fmt.Sprintf(configs.DemoTemplate, listen, "http://"+listen+"/fhir", upstream)
	text += "\n" // keep the template's keys; the bench only changes the log level
	text = string(bytes.Replace([]byte(text), []byte("level: info"), []byte("level: warn"), 1))
	f := filepath.Join(dir, "ehigate.yaml")
	return f, os.WriteFile(f, []byte(text), 0o600)
}
