#!/usr/bin/env bash
# Install the MCP Inspector (its CLI is the interop matrix's first client) and Node 22 into the cache;
# print the node_modules directory whose .bin holds `node` and `mcp-inspector`.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

INSPECTOR_VERSION="${INSPECTOR_VERSION:-2.12.0}"
npm_tools "inspector-$INSPECTOR_VERSION" "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
