package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/gateway/demo"
	"github.com/ehigate/ehigate/telemetry"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "gateway `address`")
	adminListen := fs.String("admin-listen", "127.0.0.1:9090", "admin listener `address` (compliance API, metrics); loopback only")
	patients := fs.Int("patients", 25, "synthetic patients to generate")
	dir := fs.String("dir", "", "`folder` for the demo's config and record store (default: a new temporary folder)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *patients < 1 || *patients > 100000 {
		fmt.Fprintln(stderr, "ehigate demo: --patients must be between 1 and 100000")
		return errUsage
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "ehigate-demo-")
		if err != nil {
			return err
		}
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}

	// The demo EHR: an in-memory FHIR server on loopback.
	up := demo.NewServer(demo.Options{BasePath: "/fhir"})
	for _, r := range demo.Generate(*patients, 1, time.Now()) {
		if err := up.Put(r); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
	}
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	upSrv := &http.Server{Handler: up, ReadHeaderTimeout: 10 * time.Second}
	go upSrv.Serve(upLn)
	defer upSrv.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("gateway listener: %w (try --listen 127.0.0.1:0)", err)
	}
	public := "http://" + ln.Addr().String() + "/fhir"
	// The admin listener, on loopback, with a token made for this run:
	// the configuration keeps only its hash.
	if host, _, err := net.SplitHostPort(*adminListen); err != nil || !net.ParseIP(host).IsLoopback() {
		ln.Close()
		fmt.Fprintln(stderr, "ehigate demo: --admin-listen must be a loopback address such as 127.0.0.1:9090")
		return errUsage
	}
	adminLn, err := net.Listen("tcp", *adminListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("admin listener: %w (try --admin-listen 127.0.0.1:0)", err)
	}
	adminToken := newAdminToken()
	tokenSum := sha256.Sum256([]byte(adminToken))
	cfgFile := filepath.Join(*dir, "ehigate.yaml")
	cfgText := fmt.Sprintf(configs.DemoTemplate, ln.Addr().String(), public, "http://"+upLn.Addr().String()+"/fhir")
	cfgText += fmt.Sprintf("admin:\n  listen: %q\n  tokens:\n    - {name: demo, role: officer, sha256: %s}\n",
		adminLn.Addr().String(), hex.EncodeToString(tokenSum[:]))
	if err := os.WriteFile(cfgFile, []byte(cfgText), 0o600); err != nil {
		return err
	}
	cfg, err := configs.Load(cfgFile)
	if err != nil {
		return err
	}
	log, err := telemetry.NewLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		adminLn.Close()
		return err
	}
	a.adminLn = adminLn
	adminBase := "http://" + adminLn.Addr().String()
	fmt.Fprintf(stdout, `ehigate demo is running.

  FHIR base (through the gateway): %[1]s
  Demo EHR (direct, for comparison): http://%[2]s/fhir
  Config and record store:          %[3]s

Try:
  curl -s %[1]s/metadata | head -c 300; echo
  curl -s '%[1]s/Patient?_count=5'
  curl -s %[1]s/Patient/demo-1
  curl -s '%[1]s/Observation?patient=demo-1&category=vital-signs&_count=3'
  curl -s %[1]s/Patient/demo-1/\$everything | head -c 500; echo
  curl -si -H 'Prefer: respond-async' %[1]s/Patient/\$export | grep -i content-location

Every response carries an X-Ehigate-Decision header; see the records with:
  ehigate records --config %[4]s --format table
  ehigate records --config %[4]s --patient demo-1

The compliance API (admin listener, docs/admin-api.md), with this run's
demo token (role officer; the configuration keeps only its SHA-256):
  export EHIGATE_ADMIN_TOKEN=%[6]s
  curl -s -H "Authorization: Bearer $EHIGATE_ADMIN_TOKEN" '%[5]s/api/records?limit=5'
  curl -s -H "Authorization: Bearer $EHIGATE_ADMIN_TOKEN" '%[5]s/fhir/AuditEvent?patient=demo-1&_count=5'
  curl -s -H "Authorization: Bearer $EHIGATE_ADMIN_TOKEN" '%[5]s/api/reports/all?format=html' > report.html
  curl -s %[5]s/metrics | head

The compliance console (docs/console.md): open %[5]s/console/ and sign in
with the token above.

Stop with Ctrl-C.
`, public, upLn.Addr().String(), *dir, cfgFile, adminBase, adminToken)
	return a.serve(ctx, ln)
}
