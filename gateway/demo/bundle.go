package demo

import (
	"bufio"
	"crypto/rand"
	"io"
	"strconv"
	"sync"
	"time"
)

// link is a Bundle.link.
type link struct{ rel, url string }

// bentry is one Bundle entry to write.
type bentry struct {
	v        *version // the resource; also gives fullUrl
	resource []byte   // a body that is not a stored version (batch GETs)
	mode     string   // search.mode
	method   string   // request.method (history)
	url      string   // request.url
	status   string   // response.status
	location string
	etag     string
	modified time.Time
	outcome  []byte
}

// bundleWriter streams a Bundle: the head, then each entry as it comes.
type bundleWriter struct {
	bw      *bufio.Writer
	buf     []byte
	base    string
	entries int
}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// newBundleWriter writes the Bundle head to w.
func newBundleWriter(w io.Writer, base, kind string, now time.Time, total int, links []link) *bundleWriter {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	b := &bundleWriter{bw: bw, base: base, buf: make([]byte, 0, 1024)}
	buf := append(b.buf[:0], `{"resourceType":"Bundle","id":"`...)
	buf = append(buf, rand.Text()...)
	buf = append(buf, `","meta":{"lastUpdated":"`...)
	buf = appendInstant(buf, now)
	buf = append(buf, `"},"type":`...)
	buf = appendString(buf, kind)
	if total >= 0 {
		buf = append(buf, `,"total":`...)
		buf = strconv.AppendInt(buf, int64(total), 10)
	}
	for i, l := range links {
		if i == 0 {
			buf = append(buf, `,"link":[`...)
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"relation":`...)
		buf = appendString(buf, l.rel)
		buf = append(buf, `,"url":`...)
		buf = appendString(buf, l.url)
		buf = append(buf, '}')
		if i == len(links)-1 {
			buf = append(buf, ']')
		}
	}
	b.buf = buf
	_, _ = bw.Write(buf)
	return b
}

// appendFullURL appends base/Type/id.
func appendFullURL(dst []byte, base string, v *version) []byte {
	dst = append(dst, base...)
	dst = append(dst, '/')
	dst = append(dst, v.typ...)
	dst = append(dst, '/')
	return append(dst, v.id...)
}

// add writes one entry.
func (b *bundleWriter) add(e *bentry) error {
	buf := b.buf[:0]
	if b.entries == 0 {
		buf = append(buf, `,"entry":[{`...)
	} else {
		buf = append(buf, `,{`...)
	}
	b.entries++
	sep := false
	field := func(name string) {
		if sep {
			buf = append(buf, ',')
		}
		sep = true
		buf = append(buf, '"')
		buf = append(buf, name...)
		buf = append(buf, `":`...)
	}
	if e.v != nil {
		field("fullUrl")
		buf = append(buf, '"')
		buf = appendFullURL(buf, b.base, e.v)
		buf = append(buf, '"')
	}
	switch {
	case e.resource != nil:
		field("resource")
		buf = append(buf, e.resource...)
	case e.v != nil && e.v.raw != nil:
		field("resource")
		buf = append(buf, e.v.raw...)
	}
	if e.mode != "" {
		field("search")
		buf = append(buf, `{"mode":`...)
		buf = appendString(buf, e.mode)
		buf = append(buf, '}')
	}
	if e.method != "" {
		field("request")
		buf = append(buf, `{"method":`...)
		buf = appendString(buf, e.method)
		buf = append(buf, `,"url":`...)
		buf = appendString(buf, e.url)
		buf = append(buf, '}')
	}
	if e.status != "" {
		field("response")
		buf = append(buf, `{"status":`...)
		buf = appendString(buf, e.status)
		if e.location != "" {
			buf = append(buf, `,"location":`...)
			buf = appendString(buf, e.location)
		}
		if e.etag != "" {
			buf = append(buf, `,"etag":`...)
			buf = appendString(buf, e.etag)
		}
		if !e.modified.IsZero() {
			buf = append(buf, `,"lastModified":"`...)
			buf = appendInstant(buf, e.modified)
			buf = append(buf, '"')
		}
		if e.outcome != nil {
			buf = append(buf, `,"outcome":`...)
			buf = append(buf, e.outcome...)
		}
		buf = append(buf, '}')
	}
	buf = append(buf, '}')
	b.buf = buf
	_, err := b.bw.Write(buf)
	return err
}

// close ends the Bundle and flushes it.
func (b *bundleWriter) close() error {
	end := "}"
	if b.entries > 0 {
		end = "]}"
	}
	_, _ = b.bw.WriteString(end)
	err := b.bw.Flush()
	b.bw.Reset(nil)
	writers.Put(b.bw)
	b.bw = nil
	return err
}
