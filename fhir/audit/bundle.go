package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrBundleClosed is returned by BundleWriter after Close.
var ErrBundleClosed = errors.New("audit: bundle already closed")

// BundleOptions describe the Bundle a BundleWriter writes.
type BundleOptions struct {
	// Type is "searchset" (the default) or "collection".
	Type string
	// ID is the Bundle's id (optional).
	ID string
	// Timestamp is when the Bundle was assembled (zero: omitted).
	Timestamp time.Time
	// Base is the FHIR base URL the events are read from; each entry's
	// fullUrl is Base + "/AuditEvent/" + id (none when Base is empty).
	Base string
	// Self is the absolute URL of this page, the "self" link.
	Self string
}

// BundleWriter streams AuditEvents into a Bundle: each event is written
// as it is added, so that a page or an export of any size takes constant
// memory. Links are written last, once the caller knows the next page.
type BundleWriter struct {
	w       *bufio.Writer
	enc     *json.Encoder
	opts    BundleOptions
	n       int
	started bool
	closed  bool
	err     error
}

// NewBundleWriter returns a writer of a Bundle to w.
func NewBundleWriter(w io.Writer, opts BundleOptions) *BundleWriter {
	if opts.Type == "" {
		opts.Type = "searchset"
	}
	bw := &BundleWriter{w: bufio.NewWriterSize(w, 32<<10), opts: opts}
	bw.enc = json.NewEncoder(bw.w)
	bw.enc.SetEscapeHTML(false)
	return bw
}

// Count returns how many events were added.
func (bw *BundleWriter) Count() int { return bw.n }

// start writes the Bundle's opening elements.
func (bw *BundleWriter) start() {
	if bw.started {
		return
	}
	bw.started = true
	bw.str(`{"resourceType":"Bundle"`)
	if bw.opts.ID != "" {
		bw.field("id", bw.opts.ID)
	}
	bw.field("type", bw.opts.Type)
	if !bw.opts.Timestamp.IsZero() {
		bw.field("timestamp", instant(bw.opts.Timestamp))
	}
}

// Add writes one event as an entry.
func (bw *BundleWriter) Add(ev *AuditEvent) error {
	return bw.add(ev.ID, func() error { return bw.enc.Encode(ev) })
}

// AddJSON writes an entry whose resource is resource, the JSON of an
// AuditEvent with id (encoded elsewhere, e.g. by several goroutines).
func (bw *BundleWriter) AddJSON(id string, resource []byte) error {
	return bw.add(id, func() error {
		_, err := bw.w.Write(resource)
		return err
	})
}

func (bw *BundleWriter) add(id string, write func() error) error {
	if bw.closed {
		return ErrBundleClosed
	}
	bw.start()
	if bw.n == 0 {
		bw.str(`,"entry":[`)
	} else {
		bw.str(",")
	}
	if bw.opts.Base != "" && id != "" {
		b, _ := json.Marshal(bw.opts.Base + "/AuditEvent/" + id)
		bw.str(`{"fullUrl":`)
		bw.raw(b)
		bw.str(`,"resource":`)
	} else {
		bw.str(`{"resource":`)
	}
	if bw.err == nil {
		if err := write(); err != nil {
			bw.err = fmt.Errorf("audit: write event %s: %w", id, err)
		}
	}
	if bw.opts.Type == "searchset" {
		bw.str(`,"search":{"mode":"match"}`)
	}
	bw.str("}")
	bw.n++
	return bw.err
}

// Close ends the Bundle with its links ("self", and "next" when next is
// not empty: an absolute URL) and flushes it.
func (bw *BundleWriter) Close(next string) error {
	if bw.closed {
		return ErrBundleClosed
	}
	bw.start()
	bw.closed = true
	if bw.n > 0 {
		bw.str("]")
	}
	var links []string
	for _, l := range [...][2]string{{"self", bw.opts.Self}, {"next", next}} {
		if l[1] != "" {
			b, _ := json.Marshal(map[string]string{"relation": l[0], "url": l[1]})
			links = append(links, string(b))
		}
	}
	if len(links) > 0 {
		bw.str(`,"link":[`)
		for i, l := range links {
			if i > 0 {
				bw.str(",")
			}
			bw.str(l)
		}
		bw.str("]")
	}
	bw.str("}\n")
	if bw.err == nil {
		if err := bw.w.Flush(); err != nil {
			bw.err = fmt.Errorf("audit: write bundle: %w", err)
		}
	}
	return bw.err
}

// field writes ,"name":"value".
func (bw *BundleWriter) field(name, value string) {
	b, _ := json.Marshal(value)
	bw.str(`,"` + name + `":`)
	bw.raw(b)
}

func (bw *BundleWriter) str(s string) {
	if bw.err == nil {
		if _, err := bw.w.WriteString(s); err != nil {
			bw.err = fmt.Errorf("audit: write bundle: %w", err)
		}
	}
}

func (bw *BundleWriter) raw(b []byte) {
	if bw.err == nil {
		if _, err := bw.w.Write(b); err != nil {
			bw.err = fmt.Errorf("audit: write bundle: %w", err)
		}
	}
}
