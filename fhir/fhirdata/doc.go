// Package fhirdata finds the public FHIR test data kept beside the
// repository (shared/fhir-data: HL7 R4 examples, R4 spec tables, US Core,
// Synthea patients, IHE BALP) for tests and benchmarks. The data is read
// where it is and never copied into the repository; tests skip, with a
// message, when it is absent (a clone elsewhere).
package fhirdata
