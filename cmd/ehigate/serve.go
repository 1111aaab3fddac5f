package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/ehigate/ehigate/configs"
	"github.com/ehigate/ehigate/telemetry"
)

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	file := fs.String("config", "", "configuration `file` (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fmt.Fprintln(stderr, "ehigate serve: --config is required")
		return errUsage
	}
	cfg, err := configs.Load(*file)
	if err != nil {
		return err
	}
	log, err := telemetry.NewLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		a.close(ctx)
		return err
	}
	return a.serve(ctx, ln)
}
