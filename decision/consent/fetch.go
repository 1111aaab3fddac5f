package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// FetchOptions say where and how Consents are fetched from the upstream.
type FetchOptions struct {
	// Transport carries the requests (the gateway's upstream transport;
	// not the gateway's own pipeline).
	Transport http.RoundTripper
	// Base is the upstream FHIR base URL.
	Base *url.URL
	// Query is the search below Base, e.g.
	// "Consent?status=active&scope=patient-privacy".
	Query string
	// Header is added to every request (e.g. the gateway's credentials).
	Header http.Header
	// MaxPages bounds the pages followed (default 100); MaxBytes bounds
	// one page (default 16 MiB).
	MaxPages int
	MaxBytes int64
}

// ErrFetch is matched by every error of Fetch.
var ErrFetch = errors.New("consent: fetch")

// Fetch runs the Consent search, following its next links on the same
// server, and parses every Consent of every page. Invalid Consents are
// reported in Parsed.Problems (source "upstream page N"); the error is for
// a search that failed as a whole.
func Fetch(ctx context.Context, opts FetchOptions) (Parsed, error) {
	var out Parsed
	if opts.MaxPages <= 0 {
		opts.MaxPages = 100
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 16 << 20
	}
	base := strings.TrimSuffix(opts.Base.String(), "/")
	next := base + "/" + strings.TrimPrefix(opts.Query, "/")
	for page := 1; next != ""; page++ {
		if page > opts.MaxPages {
			return out, fmt.Errorf("%w: more than %d pages", ErrFetch, opts.MaxPages)
		}
		body, err := get(ctx, &opts, next)
		if err != nil {
			return out, err
		}
		out.add(Parse(fmt.Sprintf("upstream page %d", page), body, true))
		next = nextLink(body, opts.Base)
	}
	return out, nil
}

func get(ctx context.Context, opts *FetchOptions, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	for k, vs := range opts.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := opts.Transport.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: the upstream answered %s", ErrFetch, resp.Status)
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil, fmt.Errorf("%w: unexpected content encoding %q", ErrFetch, enc)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if int64(len(b)) > opts.MaxBytes {
		return nil, fmt.Errorf("%w: a page is larger than %d bytes", ErrFetch, opts.MaxBytes)
	}
	return b, nil
}

// nextLink returns the Bundle's next link when it is on the upstream's
// server, or "".
func nextLink(body []byte, base *url.URL) string {
	var b struct {
		Link []struct {
			Relation string `json:"relation"`
			URL      string `json:"url"`
		} `json:"link"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	for _, l := range b.Link {
		if l.Relation != "next" {
			continue
		}
		u, err := base.Parse(l.URL)
		if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
			return ""
		}
		return u.String()
	}
	return ""
}
