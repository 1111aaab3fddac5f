package stream

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// readChunk is how much NewReader reads from its source at a time.
const readChunk = 32 << 10

// Buffers are reused across responses: a gateway streams many at once,
// and allocating a read buffer and growing an output buffer for each
// made most of its garbage.
var (
	readBufs = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}
	outBufs  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// maxPooledOut is the largest output buffer put back for reuse.
const maxPooledOut = 4 * readChunk

// errReaderClosed is returned by Read after Close.
var errReaderClosed = errors.New("stream: read after close")

// NewReader returns a ReadCloser reading src through a chain of writers
// built by mk (e.g. filter → rewriter), closing src on Close. mk receives
// the writer the chain must write to (it is not an io.Closer) and returns
// the chain's head; at the end of src the head is closed, which must flush
// the whole chain. Bytes are produced as src is read: only what one read
// of src yields is buffered, plus what the chain releases at once.
func NewReader(src io.ReadCloser, mk func(w io.Writer) io.WriteCloser) io.ReadCloser {
	r := &reader{src: src, out: outBuffer{b: outBufs.Get().(*bytes.Buffer)}}
	r.head = mk(&r.out)
	return r
}

type reader struct {
	src    io.ReadCloser
	head   io.WriteCloser
	out    outBuffer
	buf    *[]byte
	done   bool
	closed bool
	err    error
}

// outBuffer is the chain's final writer. It has no Close method, so a
// chain that closes its downstream stops here. Its buffer is nil once
// the reader is closed: a chain abandoned then writes nowhere.
type outBuffer struct{ b *bytes.Buffer }

func (o *outBuffer) Write(p []byte) (int, error) {
	if o.b == nil {
		return 0, errReaderClosed
	}
	return o.b.Write(p)
}

func (r *reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errReaderClosed
	}
	for r.out.b.Len() == 0 {
		switch {
		case r.err != nil:
			return 0, r.err
		case r.done:
			return 0, io.EOF
		}
		if r.buf == nil {
			r.buf = readBufs.Get().(*[]byte)
		}
		n, err := r.src.Read(*r.buf)
		if n > 0 {
			if _, werr := r.head.Write((*r.buf)[:n]); werr != nil {
				r.err = werr
				continue
			}
		}
		switch {
		case err == io.EOF:
			r.done = true
			r.err = r.head.Close()
		case err != nil:
			r.err = err
		}
	}
	return r.out.b.Read(p)
}

// Close closes the source and puts the reader's buffers back for reuse.
// A chain not yet finished is abandoned.
func (r *reader) Close() error {
	if !r.closed {
		r.closed = true
		if r.buf != nil {
			readBufs.Put(r.buf)
			r.buf = nil
		}
		if b := r.out.b; b.Cap() <= maxPooledOut {
			b.Reset()
			outBufs.Put(b)
		}
		r.out.b = nil
	}
	return r.src.Close()
}
