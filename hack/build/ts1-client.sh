#!/usr/bin/env bash
# Install the official TypeScript MCP SDK 1.x (the last line with a WebSocket client transport) and
# Node 22 into the cache; print the node_modules directory (its .bin holds `node`).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

TS1_CLIENT_VERSION="${TS1_CLIENT_VERSION:-1.32.2}"
npm_tools "ts1-client-$TS1_CLIENT_VERSION" "@modelcontextprotocol/sdk@$TS1_CLIENT_VERSION"
