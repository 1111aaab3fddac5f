// Package configs is the gateway's configuration file: its types (each
// field documented in README.md), loading with every problem reported at
// once as file:line: key.path: message, and the embedded quickstart and
// demo configurations. Example policies live in configs/policies.
package configs
