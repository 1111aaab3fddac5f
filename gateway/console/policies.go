package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ehigate/ehigate/gateway/admin"
)

func (h *Handler) policies(w http.ResponseWriter, r *http.Request, ss *session) {
	var list admin.PolicyList
	p := page{Title: "Policies", Nav: "policies", Session: ss, Data: &list}
	status := http.StatusOK
	if err := h.call(r, ss, http.MethodGet, "/api/policies", nil, nil).decode(&list); err != nil {
		p.Error, status = "The policies could not be read: "+err.Error(), apiStatus(err)
	}
	h.render(w, r, status, "policies", p)
}

// policyData is one policy's page.
type policyData struct {
	D admin.PolicyDetail
	// From and To are the versions compared (indexes into D.Versions).
	From, To int
	Diff     []Line
	Changed  bool
}

func (h *Handler) policy(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	d := policyData{}
	if err := h.call(r, ss, http.MethodGet, "/api/policies/"+pathSegment(id), nil, nil).decode(&d.D); err != nil {
		if e := (*APIError)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
			h.notFound(w, r, ss)
			return
		}
		h.render(w, r, apiStatus(err), "error", page{Title: "Policy", Nav: "policies", Session: ss,
			Error: "The policy could not be read: " + err.Error()})
		return
	}
	n := len(d.D.Versions)
	d.From, d.To = max(n-2, 0), max(n-1, 0)
	q := r.URL.Query()
	d.From = versionIndex(d.D.Versions, q, "from", d.From)
	d.To = versionIndex(d.D.Versions, q, "to", d.To)
	if n > 0 {
		d.Diff = Diff(prettyJSON(d.D.Versions[d.From].Text), prettyJSON(d.D.Versions[d.To].Text))
		d.Changed = Changed(d.Diff)
	}
	h.render(w, r, http.StatusOK, "policy", page{Title: "Policy " + id, Nav: "policies", Session: ss, Data: &d})
}

// versionIndex finds the version named by q[name] (def when absent or
// unknown).
func versionIndex(vs []admin.PolicyVersion, q url.Values, name string, def int) int {
	want := field(q, name)
	for i, v := range vs {
		if v.Version+"@"+v.SHA256 == want || (want != "" && v.Version == want) {
			return i
		}
	}
	return def
}

// Op is a diff line's operation.
type Op byte

// The operations.
const (
	Same Op = ' '
	Del  Op = '-'
	Add  Op = '+'
)

// Line is one line of a diff.
type Line struct {
	Op   Op
	Text string
	// A and B are the line's numbers in the old and new text (0 when it
	// is not in that text).
	A, B int
}

// maxDiffCells bounds the LCS table (old lines × new lines); beyond it
// the diff is the whole old text removed and the new one added.
const maxDiffCells = 4 << 20

// Diff returns the line diff of a and b by their longest common
// subsequence of lines.
func Diff(a, b string) []Line {
	al, bl := splitLines(a), splitLines(b)
	// Common prefix and suffix need no table.
	pre := 0
	for pre < len(al) && pre < len(bl) && al[pre] == bl[pre] {
		pre++
	}
	suf := 0
	for suf < len(al)-pre && suf < len(bl)-pre && al[len(al)-1-suf] == bl[len(bl)-1-suf] {
		suf++
	}
	out := make([]Line, 0, len(al)+len(bl))
	for i := range pre {
		out = append(out, Line{Op: Same, Text: al[i], A: i + 1, B: i + 1})
	}
	am, bm := al[pre:len(al)-suf], bl[pre:len(bl)-suf]
	out = append(out, middle(am, bm, pre)...)
	for i := range suf {
		ai, bi := len(al)-suf+i, len(bl)-suf+i
		out = append(out, Line{Op: Same, Text: al[ai], A: ai + 1, B: bi + 1})
	}
	return out
}

// middle diffs the lines between the common prefix (off lines) and suffix.
func middle(a, b []string, off int) []Line {
	var out []Line
	if len(a)*len(b) > maxDiffCells {
		for i, s := range a {
			out = append(out, Line{Op: Del, Text: s, A: off + i + 1})
		}
		for j, s := range b {
			out = append(out, Line{Op: Add, Text: s, B: off + j + 1})
		}
		return out
	}
	// l[i][j] is the LCS length of a[i:] and b[j:].
	w := len(b) + 1
	l := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i*w+j] = l[(i+1)*w+j+1] + 1
			} else {
				l[i*w+j] = max(l[(i+1)*w+j], l[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, Line{Op: Same, Text: a[i], A: off + i + 1, B: off + j + 1})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || l[(i+1)*w+j] >= l[i*w+j+1]):
			out = append(out, Line{Op: Del, Text: a[i], A: off + i + 1})
			i++
		default:
			out = append(out, Line{Op: Add, Text: b[j], B: off + j + 1})
			j++
		}
	}
	return out
}

// splitLines splits s into lines without their ends ("" has none).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	return strings.Split(s, "\n")
}

// Changed reports whether a diff has any added or removed line.
func Changed(d []Line) bool {
	for _, l := range d {
		if l.Op != Same {
			return true
		}
	}
	return false
}

// Class is the line's CSS class: add, del or same.
func (l Line) Class() string {
	switch l.Op {
	case Add:
		return "add"
	case Del:
		return "del"
	}
	return "same"
}
