#!/usr/bin/env bash
# `make soak`: one server process under a long mixed load: SOAK_WS WebSocket sessions and
# SOAK_HTTP Streamable HTTP clients calling tools (save_note, get_note, list_notes against
# FerretDB, and the fixture test_simple_text; every answer checked) for SOAK_MINUTES after a
# warm-up. Per minute: calls, errors and p50/p99 latency per transport, the server's RSS and CPU.
# See bench/README.md ("Soak"). Builds what it needs into bench/.build, starts its own processes
# on free loopback ports, stops them.
#
# Environment knobs (defaults in brackets):
#   SOAK_MINUTES [10]  SOAK_WARMUP [1m]        measured minutes, and the warm-up before them
#   SOAK_WS [2000]  SOAK_HTTP [50]             WebSocket sessions, HTTP clients
#   SOAK_WS_THINK [10s]  SOAK_HTTP_THINK [500ms]  mean pause between one connection's calls, uniform in
#                                              [0.5, 1.5) x it (0: closed loop; WebSocket: below 20s)
#   SOAK_REOPEN [50]                           a connection opens a new session every N calls (0: never)
#   SOAK_ERAS [2025,2026]                      protocol eras, given to the connections in turn
#   SOAK_MAX_RSS_GROWTH [5]                    RSS growth limit, %: last minute against the first
#   SOAK_SERVER_CPU [0]  SOAK_CLIENT_CPU [1]   CPUs of the server / of the load generator and FerretDB
# Exit status: 0 when every target is met; 1 when any is missed (errors, RSS growth, a process
# that died, a run cut short); the report says which.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bench="$root/bench"
build="$bench/.build"
# shellcheck source=../hack/lib/common.sh
source "$root/hack/lib/common.sh"   # log, die, step, go_env

MINUTES="${SOAK_MINUTES:-10}"
WARMUP="${SOAK_WARMUP:-1m}"
WS="${SOAK_WS:-2000}"
HTTP="${SOAK_HTTP:-50}"
WS_THINK="${SOAK_WS_THINK:-10s}"
HTTP_THINK="${SOAK_HTTP_THINK:-500ms}"
REOPEN="${SOAK_REOPEN:-50}"
ERAS="${SOAK_ERAS:-2025,2026}"
MAX_GROWTH="${SOAK_MAX_RSS_GROWTH:-5}"
SERVER_CPU="${SOAK_SERVER_CPU:-0}"
CLIENT_CPU="${SOAK_CLIENT_CPU:-1}"
PY="$root/.venv/bin/python"

# shellcheck source=procs.sh
source "$bench/procs.sh"   # use_results, start, stop, free_port, wait_port, wait_ready, raise_fds, start_ferretdb, start_ours
use_results "$build/soak/$(date -u +%Y%m%dT%H%M%SZ)"

command -v taskset >/dev/null || die "taskset (util-linux) is needed for CPU pinning"
(($(nproc --all) >= 2)) || die "the soak needs 2 CPUs: one for the server, one for the load"
"$PY" -c 'import uvloop, tornado, mcp_server' 2>/dev/null || die "$PY lacks uvloop/tornado/mcp_server; run make venv"
ferretdb="$(bash "$root/hack/build/ferretdb.sh")"
go_env
loadgen="$build/loadgen"
step "bench-loadgen" bash -c "cd '$bench/loadgen' && go build -trimpath -o '$loadgen' ."

# One socket per connection in the server and in the load generator, plus reopens in flight.
raise_fds $((WS + HTTP + 4096))
((fds_hard >= WS + HTTP + 4096)) || die "open-files hard limit $fds_hard is below the $((WS + HTTP + 4096)) the soak needs"

start_ferretdb "$CLIENT_CPU"
port="$(free_port)"
start_ours server "$SERVER_CPU" "$port"
server_pid="$started_pid"
wait_port "$port" "$server_pid" server
wait_ready "$port" "$server_pid" server

log "==> soak: $WS WebSocket sessions + $HTTP HTTP clients (eras $ERAS), $WARMUP warm-up + $MINUTES min;" \
  "server pid $server_pid on CPU $SERVER_CPU, load generator and FerretDB on CPU $CLIENT_CPU"
rc=0
taskset -c "$CLIENT_CPU" "$loadgen" soak -ws-url "ws://127.0.0.1:$port/mcp" -http-url "http://127.0.0.1:$port/mcp" \
  -ws-conns "$WS" -http-conns "$HTTP" -eras "$ERAS" -warmup "$WARMUP" -duration "${MINUTES}m" \
  -ws-think "$WS_THINK" -http-think "$HTTP_THINK" -reopen "$REOPEN" -server-pid "$server_pid" \
  >"$results/soak.jsonl" 2> >(tee "$logs/loadgen.log" >&2) || rc=$?
alive=1
kill -0 "$server_pid" 2>/dev/null || alive=0
stop "$server_pid"

rc_report=0
"$PY" "$bench/soak_report.py" "$results/soak.jsonl" --minutes "$MINUTES" --max-growth "$MAX_GROWTH" \
  --server-alive "$alive" --loadgen-rc "$rc" --server-log "$logs/server.log" --ws "$WS" --http "$HTTP" \
  | tee "$results/report.txt" || rc_report=$?
log "results in $results (run took ${SECONDS}s)"
exit "$rc_report"
