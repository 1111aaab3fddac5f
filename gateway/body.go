package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/ehigate/ehigate/fhir/stream"
)

// requestBody is a request body read for inspection: in memory up to the
// inspect limit, then spilled to a private temporary file. It holds the
// bytes to forward, with the public base rewritten to the upstream's.
type requestBody struct {
	mem   bytes.Buffer
	file  *os.File
	size  int64 // bytes held (after rewriting)
	limit int64 // in-memory limit
	dir   string
}

func (b *requestBody) Write(p []byte) (int, error) {
	if b.file == nil && int64(b.mem.Len()+len(p)) > b.limit {
		f, err := os.CreateTemp(b.dir, "ehigate-body-*")
		if err != nil {
			return 0, fmt.Errorf("gateway: spill request body: %w", err)
		}
		b.file = f
		if _, err := f.Write(b.mem.Bytes()); err != nil {
			return 0, fmt.Errorf("gateway: spill request body: %w", err)
		}
		b.mem = bytes.Buffer{}
	}
	b.size += int64(len(p))
	if b.file != nil {
		return b.file.Write(p)
	}
	return b.mem.Write(p)
}

// reader returns the held bytes from the start.
func (b *requestBody) reader() (io.ReadCloser, error) {
	if b.file == nil {
		return io.NopCloser(bytes.NewReader(b.mem.Bytes())), nil
	}
	if _, err := b.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("gateway: rewind request body: %w", err)
	}
	return io.NopCloser(b.file), nil
}

func (b *requestBody) close() {
	if b.file != nil {
		name := b.file.Name()
		b.file.Close()
		os.Remove(name)
		b.file = nil
	}
}

// countingReader counts bytes read and fails past a limit.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.limit > 0 && c.n > c.limit {
		return n, ErrBodyTooLarge
	}
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return n, ErrBodyTooLarge
		}
		return n, fmt.Errorf("%w: %w", ErrRequestBody, err)
	}
	return n, err
}

// readBody handles the request body. Bodies the classification needs are
// read completely (spilling past the inspect limit), classified while they
// are read, and held for forwarding; others stream through unread, capped
// at the body limit.
func (x *exchange) readBody() error {
	lim := x.h.opts.Limits
	r := x.r
	if r.Body == nil || r.Body == http.NoBody {
		if x.req.NeedsBody {
			return x.h.classifier.ClassifyBody(x.req, r.Header.Get("Content-Type"), strings.NewReader(""))
		}
		return nil
	}
	if !x.req.NeedsBody {
		if lim.MaxRequestBody > 0 {
			r.Body = http.MaxBytesReader(x.w, r.Body, lim.MaxRequestBody)
		}
		return nil
	}
	ct := r.Header.Get("Content-Type")
	x.body = &requestBody{limit: lim.InspectBody, dir: x.h.opts.TempDir}
	var sink io.WriteCloser = nopWriteCloser{x.body}
	if textual(ct) {
		sink = stream.NewRewriter(x.body, x.h.toUpstream)
	}
	src := &countingReader{r: r.Body, limit: lim.MaxRequestBody}
	tee := io.TeeReader(src, sink)
	cerr := x.h.classifier.ClassifyBody(x.req, ct, tee)
	// Read what the classifier left, so the whole body is held.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return err
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("%w: %w", ErrRequestBody, err)
	}
	switch {
	case lim.MaxRequestBody > 0 && src.n > lim.MaxRequestBody, errors.Is(cerr, ErrBodyTooLarge):
		return ErrBodyTooLarge
	case errors.Is(cerr, ErrRequestBody):
		return ErrRequestBody
	}
	return cerr
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// textual reports whether a media type is a text format whose bodies may
// carry URLs to rewrite (JSON, XML, NDJSON, forms, text).
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "json"), strings.HasSuffix(mt, "+json"),
		strings.HasSuffix(mt, "xml"), strings.HasSuffix(mt, "+xml"),
		strings.HasSuffix(mt, "ndjson"),
		mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}
