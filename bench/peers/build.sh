#!/usr/bin/env bash
# Build (once) one peer server of bench/run.sh from pinned versions and print how to run it:
#
#   bash bench/peers/build.sh PEER     (PEER: go-sdk | go-bare | rmcp | ts2 | ts1)
#
# Line 1 of the output names what was built (short: SDK and version); every further line is one
# word of the command, to which run.sh appends PORT and MODE. Builds are cached by version and a
# hash of the peer's sources: Go and Rust binaries in bench/.build/peers/PEER-VERSION-HASH/ (Go's
# module cache and a Cargo target directory in ~/.cache/kringen-mcp are shared), the npm packages
# with Node 22 in ~/.cache/kringen-mcp/bench-PEER-VERSION/. Exits non-zero when it cannot build.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../hack/lib/common.sh"   # log, die, step, go_env, npm_tools, KRINGEN_CACHE
builds="$(dirname "$here")/.build/peers"

TS2_VERSION="2.4.0"       # @modelcontextprotocol/server
TS2_NODE_VERSION="2.1.2"  # @modelcontextprotocol/node
TS1_VERSION="1.32.2"      # @modelcontextprotocol/sdk

# source_key DIR...: a short hash of the files a build is made from.
source_key() { find "$@" -type f ! -name Cargo.lock -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-12; }

# cached NAME OUT CMD...: unless OUT exists, run CMD ARGS... OUT.tmp as the step NAME, then OUT.tmp -> OUT.
cached() {
  local name="$1" out="$2"; shift 2
  [[ -d "$out" ]] && return 0
  into() { rm -rf "$out.tmp" && mkdir -p "$out.tmp" && "$@" "$out.tmp" && mv "$out.tmp" "$out"; }
  step "$name" into "$@" >&2
}

go_sdk_version() { awk '{for (i = 1; i < NF; i++) if ($i == "github.com/modelcontextprotocol/go-sdk") print $(i + 1)}' "$here/go/go.mod"; }

go_peer() {  # go_peer PACKAGE: build bench/peers/go/PACKAGE; print its path
  local version out
  version="$(go_sdk_version)"
  out="$builds/$1-$version-$(source_key "$here/go")"
  go_env
  go_build() { (cd "$here/go" && go build -trimpath -ldflags "-s -w" -o "$2/$1" "./$1"); }
  cached "bench-peer-$1" "$out" go_build "$1"
  echo "$out/$1"
}

case "${1:-}" in
  go-sdk)
    bin="$(go_peer gosdk)"
    echo "Go SDK $(go_sdk_version)"
    echo "$bin" ;;
  go-bare)
    bin="$(go_peer bare)"
    echo "Go net/http ($(go env GOVERSION))"
    echo "$bin" ;;
  rmcp)
    command -v cargo >/dev/null || PATH="$HOME/.cargo/bin:$PATH"
    command -v cargo >/dev/null || die "cargo is not installed"
    version="$(sed -n 's/^rmcp = { version = "=\([^"]*\)".*/\1/p' "$here/rmcp/Cargo.toml")"
    out="$builds/rmcp-$version-$(source_key "$here/rmcp")"
    cargo_build() {
      local target="$KRINGEN_CACHE/cargo-target-rmcp-peer"
      (cd "$here/rmcp" && cargo build --release --target-dir "$target" -j "${BENCH_BUILD_JOBS:-2}") &&
        cp "$target/release/rmcp-peer" "$1/rmcp-peer"
    }
    cached "bench-peer-rmcp" "$out" cargo_build
    echo "rmcp $version"
    echo "$out/rmcp-peer" ;;
  ts2|ts1)
    if [[ "$1" == ts2 ]]; then
      modules="$(npm_tools "bench-ts2-server-$TS2_VERSION" "@modelcontextprotocol/server@$TS2_VERSION" \
        "@modelcontextprotocol/node@$TS2_NODE_VERSION")"
      echo "TS server $TS2_VERSION (Node $("$modules/.bin/node" --version | tr -d v))"
      flavour=v2
    else
      modules="$(npm_tools "bench-ts1-sdk-$TS1_VERSION" "@modelcontextprotocol/sdk@$TS1_VERSION")"
      echo "TS sdk $TS1_VERSION (Node $("$modules/.bin/node" --version | tr -d v))"
      flavour=v1
    fi
    printf '%s\n' "$modules/.bin/node" "$here/ts/server.cjs" "$modules" "$flavour" ;;
  *) die "usage: build.sh go-sdk|go-bare|rmcp|ts2|ts1" ;;
esac
