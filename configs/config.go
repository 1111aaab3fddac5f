package configs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs/yamlx"
)

// Config is the gateway's configuration file. Every key is documented in
// configs/README.md; the YAML names are a public contract.
type Config struct {
	// Listen is the FHIR listener address, e.g. ":8080".
	Listen string `yaml:"listen"`
	// PublicBaseURL is the FHIR base URL apps use, e.g.
	// http://127.0.0.1:8080/fhir. Upstream URLs are rewritten to it.
	PublicBaseURL string `yaml:"public_base_url"`
	// Upstream is the EHR's FHIR API.
	Upstream Upstream `yaml:"upstream"`
	// Store is where decision records are kept.
	Store Store `yaml:"store"`
	// Policies are policy files or folders of them (*.yaml, *.yml).
	Policies []string `yaml:"policies"`
	// PolicyReview configures the review rules of policies.
	PolicyReview PolicyReview `yaml:"policy_review"`
	// Notices configures the written responses restrictions oblige.
	Notices Notices `yaml:"notices"`
	// Limits bound what a request may cost.
	Limits Limits `yaml:"limits"`
	// Journal tunes the decision journal.
	Journal Journal `yaml:"journal"`
	// Log configures the process log.
	Log Log `yaml:"log"`
	// Telemetry configures traces and metrics.
	Telemetry Telemetry `yaml:"telemetry"`
	// Auth configures identity (bearer tokens) and SMART scopes.
	Auth Auth `yaml:"auth"`
	// Throttle configures the enforcement of throttle policies.
	Throttle Throttle `yaml:"throttle"`
	// Holds configures requests parked by delay policies.
	Holds Holds `yaml:"holds"`
	// UpstreamRefusals document refusals the upstream makes on its own.
	UpstreamRefusals []UpstreamRefusal `yaml:"upstream_refusals"`
	// Consents are files or folders of patients' FHIR Consent resources
	// (requests not to share).
	Consents []string `yaml:"consents"`
	// ConsentsFetch, when set, fetches Consents from the upstream.
	ConsentsFetch *ConsentsFetch `yaml:"consents_fetch"`
	// ConsentPolicy documents how requests not to share are handled.
	ConsentPolicy ConsentPolicy `yaml:"consent_policy"`
	// Admin configures the admin listener and the compliance API.
	Admin Admin `yaml:"admin"`

	// File is the path the configuration was read from ("" when built in).
	File string `yaml:"-"`
	// Doc locates keys for later validation messages.
	Doc *yamlx.Doc `yaml:"-"`
}

// Upstream is the EHR's FHIR endpoint and the transport to it.
type Upstream struct {
	// URL is the EHR's FHIR base URL.
	URL string `yaml:"url"`
	// Timeout bounds the wait for the upstream's response headers.
	Timeout time.Duration `yaml:"timeout"`
	// DialTimeout bounds connecting to the upstream.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// MaxIdleConns is the idle connection pool size (per host and in all);
	// size it for the expected concurrency.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// MaxConns caps connections to the upstream (0 = no cap), a bulkhead.
	MaxConns int `yaml:"max_conns"`
	// IdleConnTimeout closes idle connections; keep it below the EHR's
	// keep-alive timeout.
	IdleConnTimeout time.Duration `yaml:"idle_conn_timeout"`
	// CAFile is a PEM bundle to trust for the upstream's TLS certificate.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify disables TLS verification (testing only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Limits bound requests.
type Limits struct {
	// MaxHeaderBytes bounds request headers (answered 431 beyond).
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// MaxRequestBody bounds request bodies (answered 413 beyond).
	MaxRequestBody ByteSize `yaml:"max_request_body"`
	// InspectBody is how much of a request body is held in memory to be
	// inspected; larger batch/transaction bodies spill to a private
	// temporary file.
	InspectBody ByteSize `yaml:"inspect_body"`
	// MaxResource bounds one resource scanned in a response; larger ones
	// pass through uninspected and the record says so.
	MaxResource ByteSize `yaml:"max_resource"`
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle client connections.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// Defaults returns a configuration with every default filled in.
func Defaults() Config {
	return Config{
		Listen: ":8080",
		Upstream: Upstream{
			Timeout:         60 * time.Second,
			DialTimeout:     5 * time.Second,
			MaxIdleConns:    1024,
			IdleConnTimeout: 50 * time.Second,
		},
		Store: Store{SQLite: SQLite{Path: "ehigate.db"}},
		Limits: Limits{
			MaxHeaderBytes:    64 << 10,
			MaxRequestBody:    64 << 20,
			InspectBody:       4 << 20,
			MaxResource:       16 << 20,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		},
		Journal:      defaultJournal(),
		Log:          Log{Level: "info", Format: "json"},
		PolicyReview: defaultPolicyReview(),
		Telemetry:    DefaultTelemetry(),
		Auth:         defaultAuth(),
		Throttle:     defaultThrottle(),
		Holds:        defaultHolds(),
		Admin:        defaultAdmin(),
	}
}

// Load reads and validates the configuration file at path. Relative paths
// in it are taken relative to the file's folder. The error, if any, is a
// yamlx.Problems listing every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates configuration bytes read from file.
func Parse(file string, data []byte) (*Config, error) {
	c := Defaults()
	doc, ps := yamlx.Decode(file, data, &c)
	c.File, c.Doc = file, doc
	if file != "" {
		c.resolvePaths(filepath.Dir(file))
	}
	ps = append(ps, c.validate()...)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) resolvePaths(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || p == ":memory:" {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Store.SQLite.Path = abs(c.Store.SQLite.Path)
	c.Journal.SigningKey = abs(c.Journal.SigningKey)
	c.Journal.SpoolDir = abs(c.Journal.SpoolDir)
	c.Upstream.CAFile = abs(c.Upstream.CAFile)
	c.Auth.resolvePaths(abs)
	for i, p := range c.Policies {
		c.Policies[i] = abs(p)
	}
	c.Throttle.Redis.PasswordFile = abs(c.Throttle.Redis.PasswordFile)
	for i, p := range c.Consents {
		c.Consents[i] = abs(p)
	}
	if c.ConsentsFetch != nil {
		c.ConsentsFetch.HeadersFile = abs(c.ConsentsFetch.HeadersFile)
	}
	c.Admin.resolvePaths(abs)
}

func (c *Config) validate() yamlx.Problems {
	var ps yamlx.Problems
	add := func(path, format string, args ...any) { c.Doc.Add(&ps, path, format, args...) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "want host:port (e.g. :8080), got %q", c.Listen)
	}
	if c.PublicBaseURL == "" {
		add("public_base_url", "is required (the FHIR base URL apps use, e.g. http://127.0.0.1:8080/fhir)")
	} else if err := checkBaseURL(c.PublicBaseURL); err != nil {
		add("public_base_url", "%v", err)
	}
	if c.Upstream.URL == "" {
		add("upstream.url", "is required (the EHR's FHIR base URL)")
	} else if err := checkBaseURL(c.Upstream.URL); err != nil {
		add("upstream.url", "%v", err)
	}
	for path, d := range map[string]time.Duration{
		"upstream.timeout": c.Upstream.Timeout, "upstream.dial_timeout": c.Upstream.DialTimeout,
		"upstream.idle_conn_timeout": c.Upstream.IdleConnTimeout,
		"limits.read_header_timeout": c.Limits.ReadHeaderTimeout, "limits.idle_timeout": c.Limits.IdleTimeout,
	} {
		if d <= 0 {
			add(path, "must be positive")
		}
	}
	if c.Upstream.MaxIdleConns < 1 {
		add("upstream.max_idle_conns", "must be at least 1")
	}
	if c.Upstream.MaxConns < 0 {
		add("upstream.max_conns", "must not be negative")
	}
	for path, v := range map[string]ByteSize{
		"limits.max_header_bytes": c.Limits.MaxHeaderBytes, "limits.max_request_body": c.Limits.MaxRequestBody,
		"limits.inspect_body": c.Limits.InspectBody, "limits.max_resource": c.Limits.MaxResource,
	} {
		if v <= 0 {
			add(path, "must be positive")
		}
	}
	ps = append(ps, c.validateJournalStore()...)
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		add("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if !oneOf(c.Log.Format, "json", "text") {
		add("log.format", "want json or text, got %q", c.Log.Format)
	}
	ps = append(ps, c.validateTelemetry()...)
	ps = append(ps, c.validateAuth()...)
	ps = append(ps, c.validatePolicyKeys()...)
	ps = append(ps, c.validateThrottle()...)
	ps = append(ps, c.validateConsents()...)
	ps = append(ps, c.validateRefusals()...)
	ps = append(ps, c.validateAdmin()...)
	for i, p := range c.Policies {
		if _, err := os.Stat(p); err != nil {
			add(fmt.Sprintf("policies[%d]", i), "cannot read %s: %v", p, unwrapPath(err))
		}
	}
	return ps
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an absolute http(s) URL, got %q", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must not have a query or fragment: %q", s)
	}
	if strings.HasSuffix(u.Path, "/") && u.Path != "/" {
		return fmt.Errorf("must not end with a slash: %q", s)
	}
	return nil
}

func oneOf(s string, opts ...string) bool {
	for _, o := range opts {
		if s == o {
			return true
		}
	}
	return false
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
