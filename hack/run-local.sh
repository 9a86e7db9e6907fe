#!/usr/bin/env bash
# `make run`: the MCP server on 127.0.0.1:8080. Uses MONGODB_URI when set; otherwise
# starts a FerretDB (SQLite, data in .cache/run/) on 127.0.0.1:27017 and stops it on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/hack/lib/common.sh"

if [[ -z "${MONGODB_URI:-}" ]]; then
  ferretdb="$(bash "$root/hack/build/ferretdb.sh")"
  data="$root/.cache/run/ferretdb"
  mkdir -p "$data"
  "$ferretdb" --handler=sqlite --sqlite-url="file:$data/" --listen-addr=127.0.0.1:27017 \
    --state-dir="$data" --debug-addr=- --telemetry=disable --log-level=warn &
  ferret_pid=$!
  trap 'kill "$ferret_pid" 2>/dev/null || true' EXIT
  export MONGODB_URI="mongodb://127.0.0.1:27017/"
  log "FerretDB (pid $ferret_pid) on 127.0.0.1:27017, data in $data"
fi
export MCP_HOST="${MCP_HOST:-127.0.0.1}" MCP_PORT="${MCP_PORT:-8080}" MCP_LOG_FORMAT="${MCP_LOG_FORMAT:-text}"
if [[ -z "${MCP_AUTH_TOKENS:-}${MCP_AUTH_TOKENS_FILE:-}" && "${MCP_AUTH_DISABLED:-}" != "true" ]]; then
  token_file="$root/.cache/run/token"
  [[ -s "$token_file" ]] || (umask 077; openssl rand -hex 24 >"$token_file")
  export MCP_AUTH_TOKENS_FILE="$token_file"
  log "bearer token in $token_file (Authorization: Bearer \$(cat $token_file))"
fi
log "MCP endpoint: ws://$MCP_HOST:$MCP_PORT/mcp and http://$MCP_HOST:$MCP_PORT/mcp"
exec "$root/.venv/bin/python" -m mcp_server
