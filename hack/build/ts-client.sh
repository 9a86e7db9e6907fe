#!/usr/bin/env bash
# Install the official TypeScript MCP client (2.x: Streamable HTTP, 2026-07-28) and Node 22 into
# the cache; print the node_modules directory (its .bin holds `node`).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

TS_CLIENT_VERSION="${TS_CLIENT_VERSION:-2.4.0}"
npm_tools "ts-client-$TS_CLIENT_VERSION" "@modelcontextprotocol/client@$TS_CLIENT_VERSION"
