package stream

import (
	"bytes"
	"io"
)

// readChunk is how much NewReader reads from its source at a time.
const readChunk = 32 << 10

// NewReader returns a ReadCloser reading src through a chain of writers
// built by mk (e.g. filter → rewriter), closing src on Close. mk receives
// the writer the chain must write to (it is not an io.Closer) and returns
// the chain's head; at the end of src the head is closed, which must flush
// the whole chain. Bytes are produced as src is read: only what one read
// of src yields is buffered, plus what the chain releases at once.
func NewReader(src io.ReadCloser, mk func(w io.Writer) io.WriteCloser) io.ReadCloser {
	r := &reader{src: src}
	r.head = mk(&r.out)
	return r
}

type reader struct {
	src  io.ReadCloser
	head io.WriteCloser
	out  outBuffer
	buf  []byte
	done bool
	err  error
}

// outBuffer is the chain's final writer. It has no Close method, so a
// chain that closes its downstream stops here.
type outBuffer struct{ b bytes.Buffer }

func (o *outBuffer) Write(p []byte) (int, error) { return o.b.Write(p) }

func (r *reader) Read(p []byte) (int, error) {
	for r.out.b.Len() == 0 {
		switch {
		case r.err != nil:
			return 0, r.err
		case r.done:
			return 0, io.EOF
		}
		if r.buf == nil {
			r.buf = make([]byte, readChunk)
		}
		n, err := r.src.Read(r.buf)
		if n > 0 {
			if _, werr := r.head.Write(r.buf[:n]); werr != nil {
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

// Close closes the source. A chain not yet finished is abandoned.
func (r *reader) Close() error { return r.src.Close() }
