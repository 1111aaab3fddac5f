package stream

import (
	"bytes"
	"io"
	"net/url"
	"strings"
)

// Replacement replaces From by To in a body.
type Replacement struct{ From, To []byte }

// URLReplacements returns the replacements that rewrite the base URL from
// to to in any FHIR body: as written, with JSON-escaped slashes
// (http:\/\/host\/fhir), and with the scheme's default port spelled out
// or left out (http://host:80/fhir and http://host/fhir). A trailing slash
// on either base is ignored. It returns nil when there is nothing to do.
func URLReplacements(from, to string) []Replacement {
	from, to = strings.TrimRight(from, "/"), strings.TrimRight(to, "/")
	if from == "" || from == to {
		return nil
	}
	forms := []string{from}
	if u, err := url.Parse(from); err == nil && u.Host != "" {
		def := map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
		switch port := u.Port(); {
		case def == "":
		case port == "":
			v := *u
			v.Host = u.Host + ":" + def
			forms = append(forms, v.String())
		case port == def:
			v := *u
			v.Host = u.Hostname()
			forms = append(forms, v.String())
		}
	}
	var reps []Replacement
	for _, f := range forms {
		reps = append(reps, Replacement{From: []byte(f), To: []byte(to)})
	}
	for _, f := range forms {
		if strings.Contains(f, "/") {
			reps = append(reps, Replacement{
				From: []byte(strings.ReplaceAll(f, "/", `\/`)),
				To:   []byte(strings.ReplaceAll(to, "/", `\/`)),
			})
		}
	}
	return reps
}

// urlEnd marks the bytes that may follow a base URL for it to be replaced.
var urlEnd = func() (t [256]bool) {
	for _, c := range []byte("/?#\"'< \t\r\n,)]}\\") {
		t[c] = true
	}
	return t
}()

// rewriter replaces base URLs in a stream; see NewRewriter.
type rewriter struct {
	w      io.Writer
	reps   []Replacement
	maxLen int
	prefix []byte // common prefix of every From, to scan with
	next   []int  // without a prefix: next occurrence of each From
	carry  []byte // undecided bytes held back, at most maxLen
	tmp    []byte // carry joined with the head of a write
	err    error
	closed bool
}

var _ io.WriteCloser = (*rewriter)(nil)

// NewRewriter returns a WriteCloser that writes to w the bytes written to
// it with every occurrence of a From replaced by its To (the first
// Replacement matching at a position wins). An occurrence counts only at a
// URL boundary: the byte after it is one of / ? # " ' < , ) ] } \ or
// whitespace, or the end of input, so http://up/fhir2 is left alone.
// Between writes it holds back at most the length of the longest From.
// Close flushes held-back bytes and closes w when it is an io.Closer.
func NewRewriter(w io.Writer, reps []Replacement) io.WriteCloser {
	r := &rewriter{w: w}
	for _, rep := range reps {
		if len(rep.From) == 0 {
			continue
		}
		r.reps = append(r.reps, rep)
		r.maxLen = max(r.maxLen, len(rep.From))
	}
	if len(r.reps) > 0 {
		r.prefix = r.reps[0].From
		for _, rep := range r.reps[1:] {
			n := 0
			for n < len(r.prefix) && n < len(rep.From) && r.prefix[n] == rep.From[n] {
				n++
			}
			r.prefix = r.prefix[:n]
		}
		if len(r.prefix) == 0 {
			r.next = make([]int, len(r.reps))
		}
	}
	r.carry = make([]byte, 0, 2*r.maxLen)
	r.tmp = make([]byte, 0, 2*r.maxLen)
	return r
}

// Write rewrites p. Bytes that may start a match continuing in the next
// write are held back.
func (r *rewriter) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.closed {
		return 0, ErrClosed
	}
	n := len(p)
	if r.maxLen == 0 {
		r.write(p)
		return n, r.err
	}
	if len(r.carry) > 0 {
		if len(p) < r.maxLen {
			r.carry = append(r.carry, p...)
			c := r.scan(r.carry, len(r.carry), false)
			r.carry = r.carry[:copy(r.carry, r.carry[c:])]
			return n, r.err
		}
		// Decide the held-back positions with the head of p, which holds
		// any match starting there.
		m := len(r.carry)
		r.tmp = append(append(r.tmp[:0], r.carry...), p[:r.maxLen]...)
		c := r.scan(r.tmp, m, false)
		r.carry = r.carry[:0]
		p = p[c-m:]
	}
	c := r.scan(p, len(p), false)
	r.carry = append(r.carry, p[c:]...)
	return n, r.err
}

// Close writes the held-back bytes and closes the underlying writer when it
// is an io.Closer.
func (r *rewriter) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	if r.err == nil && len(r.carry) > 0 {
		r.scan(r.carry, len(r.carry), true)
		r.carry = r.carry[:0]
	}
	if c, ok := r.w.(io.Closer); ok {
		if err := c.Close(); err != nil && r.err == nil {
			r.err = err
		}
	}
	return r.err
}

func (r *rewriter) write(b []byte) {
	if len(b) == 0 || r.err != nil {
		return
	}
	n, err := r.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	r.err = err
}

// scan writes buf with its matches replaced, deciding only positions below
// limit and those a later byte cannot change; it returns how much of buf it
// consumed. final means the input ends with buf.
func (r *rewriter) scan(buf []byte, limit int, final bool) int {
	for k := range r.next {
		r.next[k] = -1
	}
	written, i := 0, 0
	tail := limit
	if !final {
		tail = min(limit, r.undecided(buf, 0))
	}
	for i < tail {
		pos := r.candidate(buf, i)
		if pos < 0 || pos >= tail {
			break
		}
		k := r.matchAt(buf, pos, final)
		if k < 0 {
			i = pos + 1
			continue
		}
		r.write(buf[written:pos])
		r.write(r.reps[k].To)
		i = pos + len(r.reps[k].From)
		written = i
		if i > tail {
			tail = i
			if !final {
				tail = max(i, min(limit, r.undecided(buf, i)))
			}
		}
	}
	r.write(buf[written:tail])
	return tail
}

// undecided returns the first position at or after from where a From could
// still match given more input, or len(buf).
func (r *rewriter) undecided(buf []byte, from int) int {
	for t := max(from, len(buf)-r.maxLen); t < len(buf); t++ {
		rest := buf[t:]
		for _, rep := range r.reps {
			if len(rest) <= len(rep.From) && bytes.HasPrefix(rep.From, rest) {
				return t
			}
		}
	}
	return len(buf)
}

// candidate returns the first position at or after i where a From occurs
// in full, or -1.
func (r *rewriter) candidate(buf []byte, i int) int {
	if len(r.prefix) > 0 {
		if j := bytes.Index(buf[i:], r.prefix); j >= 0 {
			return i + j
		}
		return -1
	}
	best := -1
	for k := range r.reps {
		if r.next[k] < i && r.next[k] != -2 {
			if j := bytes.Index(buf[i:], r.reps[k].From); j >= 0 {
				r.next[k] = i + j
			} else {
				r.next[k] = -2 // none left in buf
			}
		}
		if n := r.next[k]; n >= 0 && (best < 0 || n < best) {
			best = n
		}
	}
	return best
}

// matchAt returns the first Replacement matching at buf[pos:] and ending
// at a URL boundary, or -1.
func (r *rewriter) matchAt(buf []byte, pos int, final bool) int {
	rest := buf[pos:]
	for k, rep := range r.reps {
		if !bytes.HasPrefix(rest, rep.From) {
			continue
		}
		if e := len(rep.From); e == len(rest) && final || e < len(rest) && urlEnd[rest[e]] {
			return k
		}
	}
	return -1
}
