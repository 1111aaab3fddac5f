package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// redactionPolicy is a documented redaction the stream and proxy
// benchmarks can put in force, so that they measure redacting responses:
// every Condition and MedicationRequest of the (Synthea) entries is
// withheld and disclosed, the rest is scanned and kept.
const redactionPolicy = `policies:
  - id: bench-redact
    version: "1"
    description: Withhold Conditions and MedicationRequests (benchmark load).
    action: redact
    exception: infeasibility.segmentation
    match:
      resource_types: [Condition, MedicationRequest]
    documentation:
      rationale: Benchmark load with redaction in force.
      decided_by: {name: Benchmark, role: benchmark}
      decided_at: 2026-12-01
      ehi_scope: Conditions and MedicationRequests of the benchmark responses.
      minimum_necessary: Two resource types only.
      review_by: 2027-11-30
      evidence: [bench/redact.go]
      conditions:
        withheld_category: Conditions and MedicationRequests
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
