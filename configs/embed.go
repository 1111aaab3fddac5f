package configs

import _ "embed"

// Quickstart is configs/quickstart.yaml, the starting point for a real
// deployment.
//
//go:embed quickstart.yaml
var Quickstart string

// DemoTemplate is the configuration `ehigate demo` writes, with three %s:
// the listen address, the public base URL and the demo upstream's URL.
//
//go:embed demo.yaml.tmpl
var DemoTemplate string
