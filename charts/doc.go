// Package charts holds the deployment artefacts' tests: the Helm chart in
// charts/ehigate is rendered with helm and every manifest is decoded
// strictly into the Kubernetes API types, and the Dockerfile at the
// repository root is checked (stages, non-root user, ports, static build).
// It has no code of its own.
package charts
