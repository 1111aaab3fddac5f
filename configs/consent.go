package configs

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
	"github.com/ehigate/ehigate/fhir"
)

// DefaultConsentQuery is the search that fetches Consents from the upstream.
const DefaultConsentQuery = "Consent?status=active&scope=patient-privacy"

// ConsentsFetch fetches the patients' Consents from the upstream.
type ConsentsFetch struct {
	// Interval is how often the Consents are fetched again.
	Interval time.Duration `yaml:"interval"`
	// Query is the search below the upstream's base.
	Query string `yaml:"query"`
	// HeadersFile holds headers sent with every fetch, one "Name: value"
	// per line (e.g. the gateway's own credentials); read at each fetch.
	HeadersFile string `yaml:"headers_file"`
}

// ConsentPolicy documents how the organization takes, enforces and ends
// patients' requests not to share (45 CFR 171.202(e)), and what a
// requester is told; it is required with Consents.
type ConsentPolicy struct {
	// NotInduced: how requests are taken without encouraging or inducing
	// them, 171.202(e)(1).
	NotInduced string `yaml:"not_induced"`
	// Termination: how a restriction ends, 171.202(e)(4).
	Termination string `yaml:"termination"`
	// Notice is what a requester is told.
	Notice ConsentNotice `yaml:"notice"`
	// DiscloseWithholding tells requesters, in Bundles, that resources were
	// withheld at a patient's request (default true).
	DiscloseWithholding *bool `yaml:"disclose_withholding"`
	// Actors map provision actor references to requesters.
	Actors []ConsentActor `yaml:"actors"`
}

// ConsentNotice is what a requester is told when a Consent restricts.
type ConsentNotice struct {
	Message  string `yaml:"message"`
	NextStep string `yaml:"next_step"`
	Contact  string `yaml:"contact"`
}

// ConsentActor says which requesters a provision actor reference (e.g.
// Organization/acme) stands for.
type ConsentActor struct {
	Reference string   `yaml:"reference"`
	ClientID  []string `yaml:"client_id"`
	Class     []string `yaml:"class"`
	Issuer    []string `yaml:"issuer"`
	Subject   []string `yaml:"subject"`
}

// Disclose reports whether withholding at a patient's request is told.
func (p ConsentPolicy) Disclose() bool { return p.DiscloseWithholding == nil || *p.DiscloseWithholding }

// UsesConsents reports whether Consents are configured (files or fetch).
func (c *Config) UsesConsents() bool { return len(c.Consents) > 0 || c.ConsentsFetch != nil }

// ConsentHeaders reads the fetch's headers file.
func (f *ConsentsFetch) ConsentHeaders() (map[string][]string, error) {
	h := map[string][]string{}
	if f.HeadersFile == "" {
		return h, nil
	}
	b, err := os.ReadFile(f.HeadersFile)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) != "" {
			k = strings.TrimSpace(k)
			h[k] = append(h[k], strings.TrimSpace(v))
		}
	}
	return h, nil
}

func (c *Config) validateConsents() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	for i, p := range c.Consents {
		if _, err := os.Stat(p); err != nil {
			add(pathIndex("consents", i), "cannot read %s: %v", p, unwrapPath(err))
		}
	}
	if f := c.ConsentsFetch; f != nil {
		if f.Interval < time.Minute {
			add("consents_fetch.interval", "must be at least 1m")
		}
		if f.Query == "" {
			f.Query = DefaultConsentQuery
		} else if !strings.HasPrefix(f.Query, "Consent?") && f.Query != "Consent" {
			add("consents_fetch.query", "want a Consent search such as %s", DefaultConsentQuery)
		}
		if f.HeadersFile != "" {
			if _, err := os.Stat(f.HeadersFile); err != nil {
				add("consents_fetch.headers_file", "cannot read %s: %v", f.HeadersFile, unwrapPath(err))
			}
		}
	}
	cp := &c.ConsentPolicy
	if c.UsesConsents() {
		for key, v := range map[string]string{
			"consent_policy.not_induced":      cp.NotInduced,
			"consent_policy.termination":      cp.Termination,
			"consent_policy.notice.message":   cp.Notice.Message,
			"consent_policy.notice.next_step": cp.Notice.NextStep,
			"consent_policy.notice.contact":   cp.Notice.Contact,
		} {
			if strings.TrimSpace(v) == "" {
				add(key, "is required with consents (45 CFR 171.202(e): how requests are taken and ended, and what requesters are told)")
			}
		}
	}
	for i, a := range cp.Actors {
		k := pathIndex("consent_policy.actors", i)
		typ, id, ok := strings.Cut(a.Reference, "/")
		if !ok || !fhir.IsResourceType(typ) || !fhir.ValidID(id) {
			add(k+".reference", "want a reference such as Organization/acme, got %q", a.Reference)
		}
		if len(a.ClientID)+len(a.Class)+len(a.Issuer)+len(a.Subject) == 0 {
			add(k, "names no requester (client_id, class, issuer or subject)")
		}
	}
	return ps
}

func pathIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
