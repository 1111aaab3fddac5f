# syntax=docker/dockerfile:1
#
# ehigate container image: a static binary on a distroless base, run as a
# non-root user, with a read-only root filesystem. Writable paths come from
# volumes only:
#   /var/lib/ehigate  SQLite store, generated signing key, journal spool
#   /tmp              request bodies spilled to disk while inspected
#
# Build:  docker build --build-arg VERSION=$(git describe --tags) -t ehigate .
# Run:    docker run --read-only -v ehigate-data:/var/lib/ehigate --tmpfs /tmp \
#           -v $PWD/ehigate.yaml:/etc/ehigate/config.yaml:ro -p 8080:8080 -p 9090:9090 ehigate

ARG GO_VERSION=1.26

# --- build: pure Go, no cgo, reproducible paths ---------------------------
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ehigate ./cmd/ehigate
# The data folder, owned by the runtime user, for when no volume is mounted.
RUN mkdir -p /out/var/lib/ehigate

# --- runtime: no shell, no package manager --------------------------------
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="ehigate" \
      org.opencontainers.image.description="EHI access gateway: a FHIR R4 reverse proxy that records every access decision" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/ehigate /ehigate
COPY --from=build --chown=65532:65532 /out/var/lib/ehigate /var/lib/ehigate
USER 65532:65532
WORKDIR /var/lib/ehigate
# 8080: FHIR listener (listen); 9090: admin listener (admin.listen) with
# /healthz, /readyz and /metrics.
EXPOSE 8080 9090
VOLUME ["/var/lib/ehigate"]
ENTRYPOINT ["/ehigate"]
CMD ["serve", "--config", "/etc/ehigate/config.yaml"]
