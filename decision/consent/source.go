package consent

import (
	"context"
	"log/slog"
	"time"
)

// Source is where the Consents in force come from: files and folders, and
// optionally the upstream, searched again on an interval.
type Source struct {
	// Paths are Consent files and folders.
	Paths []string
	// Fetch, when set, searches the upstream too; Header, when set, is
	// called before each fetch for the headers to send (credentials that
	// may rotate).
	Fetch  *FetchOptions
	Header func() (map[string][]string, error)
	// Interval is how often the upstream is searched again.
	Interval time.Duration
	// Options configure the sets built.
	Options Options
	Logger  *slog.Logger
}

// Load reads the files and, with Fetch, searches the upstream once. A
// failed search leaves out what it would have fetched (the error says so);
// invalid Consents are in Parsed.Problems and do not load.
func (s *Source) Load(ctx context.Context) (*Set, Parsed, error) {
	p := Load(s.Paths)
	var ferr error
	if s.Fetch != nil {
		opts := *s.Fetch
		if s.Header != nil {
			h, err := s.Header()
			if err != nil {
				return NewSet(p.Consents, s.Options), p, err
			}
			opts.Header = h
		}
		fp, err := Fetch(ctx, opts)
		p.add(fp)
		ferr = err
	}
	return NewSet(p.Consents, s.Options), p, ferr
}

// Run searches the upstream every Interval until ctx ends and hands each
// new set to swap; a failed search keeps the set in force.
func (s *Source) Run(ctx context.Context, swap func(*Set)) {
	if s.Fetch == nil || s.Interval <= 0 {
		return
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		set, p, err := s.Load(ctx)
		for _, pr := range p.Problems {
			log.Warn("consent not loaded", "problem", pr.String())
		}
		if err != nil {
			log.Warn("consents not fetched; the set in force stays", "err", err)
			continue
		}
		swap(set)
		log.Info("consents", "in_force", set.Len(), "skipped", len(p.Skipped), "invalid", len(p.Problems))
	}
}
