// Command bench measures ehigate against baselines measured in the same
// run: the upstream directly, a plain tuned httputil.ReverseProxy, and
// nginx when it is installed.
//
//	go run ./bench proxy  [-c 64] [-d 10s] [-entries 20] [-redact]   throughput and latency
//	go run ./bench stream [-size 512MiB] [-redact]                    RSS while streaming a large response
//
// Every target runs as its own process; ehigate is the real binary with
// every request durably recorded in SQLite.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "proxy":
		err = runProxyBench(ctx, os.Args[2:])
	case "stream":
		err = runStreamBench(ctx, os.Args[2:])
	case "upstream": // internal: a child process
		err = runUpstream(ctx, os.Args[2:])
	case "plainproxy": // internal: a child process
		err = runPlainProxy(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go run ./bench proxy|stream [flags]")
	os.Exit(2)
}
