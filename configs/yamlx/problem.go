package yamlx

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every Problems error.
var ErrInvalid = errors.New("invalid configuration")

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File string
	Line int
	// Path is the key path, e.g. "store.sqlite.path" or "policies[2].match".
	Path string
	Msg  string
}

// String renders the problem as "file:line: path: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of problems; as an error it lists them all, one per
// line, sorted by file and line.
type Problems []Problem

// Error implements error.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true for any Problems.
func (ps Problems) Is(target error) bool { return target == ErrInvalid }

// Err returns ps sorted as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	ps.Sort()
	return ps
}

// Sort orders problems by file, line and path.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
}

// Add appends a problem.
func (ps *Problems) Add(file string, line int, path, format string, args ...any) {
	*ps = append(*ps, Problem{File: file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}
