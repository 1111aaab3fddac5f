package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

func TestBundleWriter(t *testing.T) {
	b := builder()
	var evs []AuditEvent
	for _, tc := range cases[:4] {
		evs = append(evs, b.Events(tc.rec)...)
	}
	tests := []struct {
		name   string
		opts   BundleOptions
		events []AuditEvent
		next   string
	}{
		{"bundle-empty", BundleOptions{ID: "page-0", Timestamp: t0, Self: "https://admin.example-health.org/fhir/AuditEvent?date=ge2026-12-01"}, nil, ""},
		{"bundle-searchset", BundleOptions{ID: "page-1", Timestamp: t0, Base: "https://admin.example-health.org/fhir",
			Self: "https://admin.example-health.org/fhir/AuditEvent?date=ge2026-12-01&_count=5"}, evs,
			"https://admin.example-health.org/fhir/AuditEvent?date=ge2026-12-01&_count=5&_getpages=abc"},
		{"bundle-collection", BundleOptions{Type: "collection", Timestamp: t0}, evs[:1], ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			bw := NewBundleWriter(&buf, tc.opts)
			for i := range tc.events {
				if err := bw.Add(&tc.events[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := bw.Close(tc.next); err != nil {
				t.Fatal(err)
			}
			if bw.Count() != len(tc.events) {
				t.Errorf("Count = %d", bw.Count())
			}
			validR4(t, buf.Bytes())
			var got struct {
				Type  string `json:"type"`
				Entry []struct {
					FullURL  string          `json:"fullUrl"`
					Resource json.RawMessage `json:"resource"`
					Search   *struct {
						Mode string `json:"mode"`
					} `json:"search"`
				} `json:"entry"`
				Link []struct{ Relation, URL string } `json:"link"`
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Entry) != len(tc.events) {
				t.Fatalf("%d entries, want %d", len(got.Entry), len(tc.events))
			}
			for i, e := range got.Entry {
				if want := tc.opts.Base + "/AuditEvent/" + tc.events[i].ID; tc.opts.Base != "" && e.FullURL != want {
					t.Errorf("fullUrl %q, want %q", e.FullURL, want)
				}
				if (e.Search != nil) != (got.Type == "searchset") {
					t.Errorf("entry %d search %+v in a %s", i, e.Search, got.Type)
				}
			}
			if tc.next != "" && (len(got.Link) != 2 || got.Link[1].Relation != "next" || got.Link[1].URL != tc.next) {
				t.Errorf("links %+v", got.Link)
			}
			golden(t, tc.name+".golden.json", buf.Bytes())
		})
	}
}

func TestBundleWriterErrors(t *testing.T) {
	bw := NewBundleWriter(io.Discard, BundleOptions{})
	if err := bw.Close(""); err != nil {
		t.Fatal(err)
	}
	if err := bw.Add(&AuditEvent{}); !errors.Is(err, ErrBundleClosed) {
		t.Errorf("Add after Close: %v", err)
	}
	if err := bw.Close(""); !errors.Is(err, ErrBundleClosed) {
		t.Errorf("Close twice: %v", err)
	}
	boom := errors.New("disk full")
	bw = NewBundleWriter(failingWriter{boom}, BundleOptions{})
	ev := builder().Events(record())[0]
	var err error
	for range 100 {
		if err = bw.Add(&ev); err != nil {
			break
		}
	}
	if err == nil {
		err = bw.Close("")
	}
	if !errors.Is(err, boom) {
		t.Errorf("write error: %v", err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// BenchmarkEvents measures building and encoding one record's event.
func BenchmarkEvents(b *testing.B) {
	bd := builder()
	rec := cases[0].rec
	bw := NewBundleWriter(io.Discard, BundleOptions{Base: "https://admin.example-health.org/fhir"})
	b.ReportAllocs()
	for b.Loop() {
		evs := bd.Events(rec)
		for i := range evs {
			if err := bw.Add(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
