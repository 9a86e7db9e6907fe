#!/usr/bin/env bash
# Install the MCP conformance suite and Node 22 into the cache; print the node_modules directory
# whose .bin holds `node` and `conformance`.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

CONFORMANCE_VERSION="${CONFORMANCE_VERSION:-0.2.0-alpha.12}"
npm_tools "conformance-$CONFORMANCE_VERSION" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION"
