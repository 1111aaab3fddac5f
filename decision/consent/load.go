package consent

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Load reads Consent files and folders. A file named directly must hold a
// Consent (or a Bundle of them); a folder's *.json files are read in name
// order, and those holding another resource type are passed over (a
// policies folder may hold Consents beside policy files).
func Load(paths []string) Parsed {
	var out Parsed
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			out.Problems.Add(p, 0, "", "%v", unwrapPath(err))
			continue
		}
		if !fi.IsDir() {
			out.add(readOne(p, false))
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			out.Problems.Add(p, 0, "", "%v", unwrapPath(err))
			continue
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".json") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out.add(readOne(filepath.Join(p, n), true))
		}
	}
	return out
}

func readOne(path string, others bool) Parsed {
	b, err := os.ReadFile(path)
	if err != nil {
		var out Parsed
		out.Problems.Add(path, 0, "", "%v", unwrapPath(err))
		return out
	}
	return Parse(path, b, others)
}

// add appends what another source held.
func (p *Parsed) add(q Parsed) {
	p.Consents = append(p.Consents, q.Consents...)
	p.Skipped = append(p.Skipped, q.Skipped...)
	p.Problems = append(p.Problems, q.Problems...)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
