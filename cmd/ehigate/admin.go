package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/decision/exceptions"
	"github.com/ehigate/ehigate/decision/journal"
	"github.com/ehigate/ehigate/decision/policy"
	"github.com/ehigate/ehigate/fhir/audit"
	"github.com/ehigate/ehigate/gateway/admin"
	"github.com/ehigate/ehigate/telemetry"
)

// runAdmin is "admin hash-token": it prints the SHA-256 of a bearer token
// for admin.tokens (the configuration keeps the hash, never the token).
func runAdmin(_ context.Context, args []string, stdout, stderr io.Writer) error {
	usage := func() error {
		fmt.Fprintln(stderr, "usage: ehigate admin hash-token [--generate] [--name NAME --role auditor|officer]")
		fmt.Fprintln(stderr, "  reads the token from standard input (one line), or makes a new one with --generate")
		return errUsage
	}
	if len(args) == 0 || args[0] != "hash-token" {
		return usage()
	}
	fs := newFlags("admin hash-token", stderr)
	generate := fs.Bool("generate", false, "make a new random token (printed once, on standard error) and print its hash")
	name := fs.String("name", "", "with --role: print a tokens_file line (NAME ROLE SHA256)")
	role := fs.String("role", "", "auditor or officer (with --name)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if (*name == "") != (*role == "") || (*role != "" && *role != configs.RoleAuditor && *role != configs.RoleOfficer) {
		return usage()
	}
	var tok string
	if *generate {
		tok = newAdminToken()
		fmt.Fprintf(stderr, "token (give it to its holder; it is not stored anywhere): %s\n", tok)
	} else {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		tok = strings.TrimSpace(line)
		if tok == "" {
			fmt.Fprintln(stderr, "ehigate admin hash-token: no token on standard input")
			return errUsage
		}
	}
	sum := sha256.Sum256([]byte(tok))
	if *name != "" {
		fmt.Fprintf(stdout, "%s %s %s\n", *name, *role, hex.EncodeToString(sum[:]))
		return nil
	}
	fmt.Fprintln(stdout, hex.EncodeToString(sum[:]))
	return nil
}

// newAdminToken returns a random bearer token (256 bits).
func newAdminToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// adminCredentials builds the admin API's credentials from the admin
// section.
func adminCredentials(ctx context.Context, ac *configs.Admin, log *slog.Logger) (*admin.Credentials, error) {
	creds, err := ac.Credentials()
	if err != nil {
		return nil, err
	}
	tokens := make([]admin.Token, 0, len(creds))
	for _, c := range creds {
		role, err := admin.ParseRole(c.Role)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, admin.Token{Name: c.Name, Role: role, SHA256: c.SHA256})
	}
	var jo *admin.JWTOptions
	if j := ac.JWT; j != nil {
		jo = &admin.JWTOptions{Issuer: j.Issuer, JWKSURL: j.JWKSURL, Audience: j.Audience, Algorithms: j.Algorithms,
			RoleClaim: j.RoleClaim, Roles: map[string]admin.Role{}, Logger: log}
		for v, r := range j.Roles {
			role, err := admin.ParseRole(r)
			if err != nil {
				return nil, err
			}
			jo.Roles[v] = role
		}
	}
	return admin.NewCredentials(ctx, tokens, jo)
}

// openAdmin builds the admin listener's handler (the compliance API,
// /metrics, /healthz, /readyz) and the readiness the FHIR listener serves
// too. It runs once the journal, the engine and the holds exist.
func (a *app) openAdmin(ctx context.Context) error {
	cfg := a.cfg
	tel := a.tel
	overdue := func() int64 {
		if set := a.engine.Set(); set != nil {
			return int64(len(set.Reviews(time.Now(), 0)))
		}
		return -1
	}
	pending := a.holdsPending()
	if err := tel.Metrics.RegisterGauges(func() telemetry.GaugeValues {
		return telemetry.GaugeValues{SpoolDepth: int64(a.journal.Depth()), HoldsPending: pending(), PoliciesOverdue: overdue()}
	}); err != nil {
		return err
	}
	a.readiness = &admin.Readiness{Ping: a.store.Ping, SpoolDepth: a.journal.Depth, Spooled: true,
		PoliciesLoaded: func() bool { return a.engine.Set() != nil }}
	var err error
	if a.adminCreds, err = adminCredentials(ctx, &cfg.Admin, a.log); err != nil {
		return err
	}
	cat, err := exceptions.Load()
	if err != nil {
		return err
	}
	opts := admin.Options{
		Store: a.store, Journal: a.journal, Credentials: a.adminCreds, Holds: a.enf.holds,
		Policies: func() *policy.Set { return a.engine.Set() }, Catalog: cat, Events: auditBuilder(cfg, cat),
		Transition: applyTransition, Retention: cfg.Journal.Retention, Ready: a.readiness,
		Metrics: tel.PrometheusHandler(), BaseURL: cfg.Admin.BaseURL, Logger: a.log,
	}
	if a.signer != nil {
		opts.Keys = journal.NewKeyring(a.signer.Public())
	}
	// Audit packages are signed with the journal key, when it is kept in
	// a file (an in-memory store's key lives only in the process).
	if key, err := signingKey(cfg); err == nil {
		opts.Export = &admin.ExportOptions{Key: key, CreatedBy: "ehigate " + version}
	}
	a.admin, err = admin.New(opts)
	return err
}

// auditBuilder makes the AuditEvents of records: the gateway's public
// base URL as the server, CFR cites from the catalog.
func auditBuilder(cfg *configs.Config, cat *exceptions.Catalog) *audit.Builder {
	return audit.NewBuilder(audit.Options{Server: cfg.PublicBaseURL, CFR: func(code string) string {
		if e, err := cat.Lookup(code); err == nil {
			return e.CFR
		}
		return ""
	}})
}

// startAdmin starts the admin listener: a.adminLn when the caller opened
// it, else admin.listen. When the default address (admin.listen not set)
// is taken the gateway runs without it, with a warning; an address set in
// the configuration must be free.
func (a *app) startAdmin(errc chan<- error) error {
	if a.admin == nil {
		return nil
	}
	ac := &a.cfg.Admin
	if a.adminLn == nil {
		if ac.Listen == "" {
			a.log.Info("admin listener off (admin.listen is empty)")
			return nil
		}
		ln, err := net.Listen("tcp", ac.Listen)
		if err != nil {
			if !a.cfg.Doc.Has("admin.listen") {
				a.log.Warn("admin listener not started: the default address is taken; set admin.listen", "addr", ac.Listen, "err", err)
				return nil
			}
			return fmt.Errorf("admin listener: %w", err)
		}
		a.adminLn = ln
	}
	handler, err := withConsole(a.admin, a.log)
	if err != nil {
		return err
	}
	a.adminServer = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: a.cfg.Limits.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.Limits.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	ln := a.adminLn
	go func() {
		var err error
		if ac.TLS.Enabled() {
			err = a.adminServer.ServeTLS(ln, ac.TLS.CertFile, ac.TLS.KeyFile)
		} else {
			err = a.adminServer.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("admin listener: %w", err)
		}
	}()
	scheme := "http"
	if ac.TLS.Enabled() {
		scheme = "https"
	}
	a.log.Info("admin listener", "addr", ln.Addr().String(), "scheme", scheme, "tokens", len(ac.Tokens), "jwt", ac.JWT != nil)
	return nil
}

// stopAdmin shuts the admin listener down gracefully.
func (a *app) stopAdmin(ctx context.Context) error {
	if a.adminServer == nil {
		return nil
	}
	return a.adminServer.Shutdown(ctx)
}
