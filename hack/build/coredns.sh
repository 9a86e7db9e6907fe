#!/usr/bin/env bash
# Build CoreDNS, the cluster DNS server (a plain `go install` works for it).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
out="$KRINGEN_CACHE/bin/coredns-$COREDNS_VERSION"
if [[ -x "$out/coredns" ]]; then echo "$out/coredns"; exit 0; fi
go_env

build() {
  mkdir -p "$out.tmp"
  GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  rm -rf "$out" && mv "$out.tmp" "$out"
}
step "build-coredns-$COREDNS_VERSION" build
echo "$out/coredns"
