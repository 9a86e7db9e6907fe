#!/usr/bin/env bash
# Build Traefik v3, the local cluster's gateway: one controller that serves both Ingress and
# Gateway API routes. `go install` refuses its module (replace directives), so it is built inside a
# copy of the module; the web dashboard's assets are not in the module and are not needed (the
# dashboard stays off).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.6.12}"
GO_LDFLAGS="-X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
  go_build_module traefik "$TRAEFIK_VERSION" github.com/traefik/traefik/v3 ./cmd/traefik
