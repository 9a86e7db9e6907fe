#!/usr/bin/env bash
# Build etcd 3.5 from the Go module proxy. Its server module replaces its sibling
# modules with relative paths, so a scratch module pins each sibling at the same
# release instead. (Debian's etcd 3.4 is below what Kubernetes 1.33 supports.)
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

ETCD_VERSION="${ETCD_VERSION:-v3.5.21}"
out="$KRINGEN_CACHE/bin/etcd-$ETCD_VERSION"
if [[ -x "$out/etcd" ]]; then echo "$out"; exit 0; fi
go_env
work="$KRINGEN_CACHE/src/etcd-$ETCD_VERSION"

prepare() {
  local src m v
  src="$(module_dir "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
  rm -rf "$work" && mkdir -p "$work"
  {
    echo "module kringen.local/etcd-build"
    echo
    echo "go $(awk '/^go /{print $2; exit}' "$src/go.mod")"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo
    echo "replace ("
    for m in $(awk '/=> \.\.\// {print $1}' "$src/go.mod"); do
      # client/v2 is versioned v2.305.N alongside etcd v3.5.N
      if [[ "$m" == */v2 ]]; then v="v2.305.${ETCD_VERSION##*.}"; else v="$ETCD_VERSION"; fi
      printf '\t%s => %s %s\n' "$m" "$m" "$v"
    done
    echo ")"
  } >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$work/tools.go"
  (cd "$work" && go mod tidy -e && go mod download)
}

build() {
  mkdir -p "$out.tmp"
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$out" && mv "$out.tmp" "$out"
}

step "prepare-etcd-$ETCD_VERSION" prepare
step "build-etcd-$ETCD_VERSION" build
echo "$out"
