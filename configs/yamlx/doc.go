// Package yamlx decodes YAML configuration strictly and reports every
// problem at once, each with its file, line and key path
// ("policies.yaml:12: policies[0].documentation.rationale: is required").
//
// It is shared by the gateway configuration (package configs) and the
// policy files (package decision/policy).
package yamlx
