#!/usr/bin/env bash
# Build CoreDNS, the cluster DNS server (a plain `go install` works for it).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
go_install_cached coredns "${COREDNS_VERSION:-v1.14.7}" github.com/coredns/coredns
