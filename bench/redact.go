package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// redactionPolicy is a documented redaction the stream and proxy
// benchmarks can put in force (-redact), so that they measure redacting
// responses: every Observation of the (Synthea) entries is inspected, the
// vital signs among them are withheld and disclosed, the rest is kept.
const redactionPolicy = `policies:
  - id: bench-redact
    version: "1"
    description: Withhold vital-sign Observations (benchmark load).
    action: redact
    exception: infeasibility.segmentation
    match:
      resource_types: [Observation]
      data_classes: [Vital Signs]
    documentation:
      rationale: Benchmark load with redaction in force.
      decided_by: {name: Benchmark, role: benchmark}
      decided_at: 2026-12-01
      ehi_scope: Vital-sign Observations of the benchmark responses.
      minimum_necessary: One data class only.
      review_by: 2027-11-30
      evidence: [bench/redact.go]
      conditions:
        withheld_category: Vital-sign Observations
        withheld_basis: benchmark
        segmentation_limitation: benchmark
    notice:
      message: Some resources were withheld for the benchmark.
      next_step: None.
      contact: nobody
`

// withRedaction writes redactionPolicy beside a benchmark configuration
// (see ehigateConfig) and adds it to the configuration's policies, before
// the gateway starts: go run ./bench stream -redact measures RSS and
// throughput while a 512 MiB Bundle is filtered entry by entry.
func withRedaction(cfgFile string) error {
	pol := filepath.Join(filepath.Dir(cfgFile), "redact-policy.yaml")
	if err := os.WriteFile(pol, []byte(redactionPolicy), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(cfgFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "policies: [%q]\n", pol); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
