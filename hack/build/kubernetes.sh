#!/usr/bin/env bash
# Build the Kubernetes binaries from the Go module proxy.
# `go install k8s.io/kubernetes/cmd/...@vX` is refused because the module
# replaces its staging modules (k8s.io/api, ...) with local paths. A scratch
# module that requires k8s.io/kubernetes and replaces each staging module with
# its published v0.N.P release builds them.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.33.13}"
KUBERNETES_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
out="$KRINGEN_CACHE/bin/kubernetes-$KUBERNETES_VERSION"

have_all() {
  local c
  for c in "${KUBERNETES_COMMANDS[@]}"; do [[ -x "$out/$c" ]] || return 1; done
}
if have_all; then echo "$out"; exit 0; fi
go_env

staging_version="v0.${KUBERNETES_VERSION#v1.}"
work="$KRINGEN_CACHE/src/kubernetes-$KUBERNETES_VERSION"

prepare() {
  local src
  src="$(module_dir "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  rm -rf "$work" && mkdir -p "$work"
  {
    echo "module kringen.local/kubernetes-build"
    echo
    echo "go $(awk '/^go /{print $2; exit}' "$src/go.mod")"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    awk '/=> \.\/staging\/src\// {print "\t" $1 " => " $1 " '"$staging_version"'"}' "$src/go.mod"
    echo ")"
  } >"$work/go.mod"
  printf 'package tools\n\nimport (\n' >"$work/tools.go"
  local c
  for c in "${KUBERNETES_COMMANDS[@]}"; do
    printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c" >>"$work/tools.go"
  done
  printf ')\n' >>"$work/tools.go"
  sed -i '1i //go:build tools\n' "$work/tools.go"
  (cd "$work" && go mod tidy -e && go mod download)
}

build() {
  local major minor ldflags pkgs=() c v
  v="${KUBERNETES_VERSION#v}"; major="${v%%.*}"; minor="$(cut -d. -f2 <<<"$v")"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  for c in "${KUBERNETES_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  mkdir -p "$out.tmp"
  (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$out.tmp/" "${pkgs[@]}")
  rm -rf "$out" && mv "$out.tmp" "$out"
}

step "prepare-kubernetes-$KUBERNETES_VERSION" prepare
step "build-kubernetes-$KUBERNETES_VERSION" build
echo "$out"
