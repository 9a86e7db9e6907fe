#!/usr/bin/env bash
# `make bench`: throughput and memory of the MCP server against a bare Tornado WebSocket
# echo server (the ceiling of this stack) and the official MCP Python SDK 2.x server.
# See bench/README.md. Idempotent: builds what it needs into bench/.build (and the shared
# cache ~/.cache/kringen-mcp), starts its own processes on free loopback ports, stops them.
#
# Environment knobs (defaults in brackets):
#   BENCH_WARMUP [1s]  BENCH_DURATION [4s]      one throughput run (fresh connections each run)
#   BENCH_REPS [3]                              interleaved runs per server and concurrency (12 s measured in all)
#   BENCH_CONNS ["1 50"]                        concurrencies measured
#   BENCH_IDLE_SESSIONS [10000]                 idle WebSocket sessions for the memory test
#   BENCH_SERVER_CPU [0]  BENCH_CLIENT_CPU [1]  CPUs the servers / the load generator are pinned to
#   BENCH_SDK_FAST [1]                          also run the SDK server with uvloop+httptools (informational)
#   BENCH_HTTP [1]                              also run our server over Streamable HTTP (informational)
#   BENCH_2026 [1]                              also run our server with stateless 2026-07-28 requests
#                                               (WebSocket, and Streamable HTTP when BENCH_HTTP=1)
#   BENCH_PEERS [1]                             also run the other MCP servers of bench/peers/ (0 skips them);
#                                               a peer that cannot be built or started is reported, not fatal
#   BENCH_BASELINE []                           the app/src of another checkout (e.g. a `git worktree` of main):
#                                               its server runs beside ours, interleaved, in base_* rows, and
#                                               bench/report_baseline.py prints ours / base for each
# Exit status: 0 when every run completed without errors (whether targets are met or not),
# 1 when any call failed, a session could not be opened, or a process died.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bench="$root/bench"
build="$bench/.build"
# shellcheck source=../hack/lib/common.sh
source "$root/hack/lib/common.sh"   # log, die, step, go_env, KRINGEN_CACHE

WARMUP="${BENCH_WARMUP:-1s}"
DURATION="${BENCH_DURATION:-4s}"
CONNS="${BENCH_CONNS:-1 50}"
IDLE_SESSIONS="${BENCH_IDLE_SESSIONS:-10000}"
SERVER_CPU="${BENCH_SERVER_CPU:-0}"
CLIENT_CPU="${BENCH_CLIENT_CPU:-1}"
SDK_FAST="${BENCH_SDK_FAST:-1}"
OURS_HTTP="${BENCH_HTTP:-1}"
OURS_2026="${BENCH_2026:-1}"
PEERS="${BENCH_PEERS:-1}"
BASELINE="${BENCH_BASELINE:-}"
VENV="$root/.venv"
SDK2_VENV="$root/.venv-sdk2"
PY="$VENV/bin/python"
SDK_PY="$SDK2_VENV/bin/python"

mkdir -p "$build"
results="$build/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
logs="$results/logs"
mkdir -p "$logs"

# shellcheck source=procs.sh
source "$bench/procs.sh"   # pids, cleanup, start, stop, free_port, wait_port, wait_ready, check_alive,
                           # rss_kib, raise_fds, start_ferretdb, start_ours

# cpu_steal_ticks N: "total steal" jiffies of CPU N so far (/proc/stat); steal_pct "T0 S0 T1 S1"
# "T0' S0' T1' S1'": the share of each CPU's time the hypervisor gave to others in between.
cpu_steal_ticks() { awk -v cpu="cpu$1" '$1 == cpu {t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9}' /proc/stat; }
steal_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN {split(a, x); split(b, y)
    printf "CPU steal during the throughput runs: server CPU %.1f%%, load generator CPU %.1f%%",
      100 * (y[2] - x[2]) / (y[1] - x[1] + 1e-9), 100 * (y[4] - x[4]) / (y[3] - x[3] + 1e-9)}'
}

# ------------------------------------------------------------------ prerequisites
command -v taskset >/dev/null || die "taskset (util-linux) is needed for CPU pinning"
ncpu="$(nproc --all)"
if ((ncpu < 2)); then
  log "WARNING: only $ncpu CPU; server and load generator share it (results understate the server)"
  SERVER_CPU=0 CLIENT_CPU=0
fi

log "==> prerequisites"
make -s -C "$root" venv sdk2-venv >"$logs/make.log" 2>&1 || { tail -n 30 "$logs/make.log" >&2; die "make venv sdk2-venv failed"; }
"$PY" -c 'import uvloop, tornado, mcp_server' 2>/dev/null || die "$VENV lacks uvloop/tornado/mcp_server; run make clean venv"
"$SDK_PY" -c 'import mcp.server.mcpserver' 2>/dev/null || die "$SDK2_VENV lacks mcp 2.x; run make clean sdk2-venv"
ferretdb="$(bash "$root/hack/build/ferretdb.sh")"

go_env
loadgen="$build/loadgen"
step "bench-loadgen" bash -c "cd '$bench/loadgen' && go build -trimpath -o '$loadgen' ."

# The SDK with uvicorn's optional speedups (what `uvicorn[standard]` adds), kept out of
# .venv-sdk2 so the default configuration is measured unchanged.
sdk_fast_path="$build/sdk-fast"
if [[ "$SDK_FAST" == 1 && ! -f "$sdk_fast_path/.installed" ]]; then
  install_fast() {
    rm -rf "$sdk_fast_path" && "$SDK_PY" -m pip install -q --disable-pip-version-check \
      --target "$sdk_fast_path" uvloop httptools && touch "$sdk_fast_path/.installed"
  }
  step "bench-sdk-fast" install_fast || { log "WARNING: could not install uvloop/httptools; skipping the SDK fast variant"; SDK_FAST=0; }
fi

# File descriptors: 10,000 sessions need as many sockets in the server and in the client.
raise_fds $((IDLE_SESSIONS + 1024))
if ((fds_hard < IDLE_SESSIONS + 1024)); then
  log "WARNING: open-files hard limit is $fds_hard (cannot raise it here); idle sessions reduced from $IDLE_SESSIONS"
  IDLE_SESSIONS=$((fds_hard - 1024))
fi

# ------------------------------------------------------------------ FerretDB
# Only used at startup (indexes) and by /ready; pinned with the client, off the server's CPU.
start_ferretdb "$CLIENT_CPU"

# ------------------------------------------------------------------ servers
# start_server KIND [NAME] (KIND: ours | echo | sdk | sdk_fast | tornado_fixed | PEER.MODE, a
# peer of bench/peers/rows.sh): sets server_pid and server_port; the output goes to $logs/NAME.log
# (NAME defaults to KIND). Returns 1 when a peer (not our servers) does not start.
server_pid="" server_port=""
start_server() {
  local kind="$1" name="${2:-$1}" port soft=""
  local -a cmd
  port="$(free_port)"
  case "$kind" in
    ours|ours_memory)
      # ours_memory: the same server with its 2025 HTTP sessions in process memory (one replica), to
      # weigh the shared session record of the default against it.
      start_ours "$name" "$SERVER_CPU" "$port" "$([[ "$kind" == ours_memory ]] && echo memory || echo mongodb)"
      ;;
    base) PYTHONPATH="$BASELINE" start_ours "$name" "$SERVER_CPU" "$port" ;;
    echo) start "$name" "$SERVER_CPU" "$PY" "$bench/echo_server.py" "$port" ;;
    sdk) start "$name" "$SERVER_CPU" "$SDK_PY" "$bench/sdk_server.py" "$port" ;;
    sdk_fast) PYTHONPATH="$sdk_fast_path" start "$name" "$SERVER_CPU" "$SDK_PY" "$bench/sdk_server.py" "$port" ;;
    tornado_fixed) soft=soft; start "$name" "$SERVER_CPU" "$PY" "$bench/fixed_server.py" "$port" ;;
    *.*) soft=soft; mapfile -t cmd <<<"${peer_cmd[${kind%%.*}]}"
      start "$name" "$SERVER_CPU" "${cmd[@]}" "$port" "${kind#*.}" ;;
  esac
  server_pid="$started_pid" server_port="$port"
  wait_port "$port" "$server_pid" "$name" $soft || return 1
  [[ "$kind" == ours* || "$kind" == base ]] && wait_ready "$port" "$server_pid" "$name"
  return 0
}

# ------------------------------------------------------------------ 1. throughput
# All servers run at once (pinned to the same CPU; only the one under load is busy). The
# runs are interleaved: for each concurrency, REPS rounds of every row, so slow drift on a
# shared machine hits every server alike; report.py adds the rounds up. Within a round the
# rows a ratio compares run next to each other (ours_ws_2026 | ours | echo, ours_http_memory |
# ours_http | ours_http_2026).
#
# A row is a server process, a transport and a protocol era. The ours_* rows are the same
# process as ours: 2025 is a session (initialize first), 2026 stateless 2026-07-28 requests.
REPS="${BENCH_REPS:-3}"
kinds=()
[[ "$OURS_2026" == 1 ]] && kinds+=(ours_ws_2026)
kinds+=(ours echo sdk)
[[ "$SDK_FAST" == 1 ]] && kinds+=(sdk_fast)
[[ "$OURS_HTTP" == 1 ]] && kinds+=(ours_http_memory ours_http)
[[ "$OURS_HTTP" == 1 && "$OURS_2026" == 1 ]] && kinds+=(ours_http_2026)
if [[ -n "$BASELINE" ]]; then
  [[ -d "$BASELINE/mcp_server" ]] || die "BENCH_BASELINE=$BASELINE holds no mcp_server package"
  kinds+=(base)
  [[ "$OURS_2026" == 1 ]] && kinds+=(base_ws_2026)
  [[ "$OURS_HTTP" == 1 && "$OURS_2026" == 1 ]] && kinds+=(base_http_2026)
fi
declare -A server_of transport_of mode_of era_of pid_of url_of
for kind in "${kinds[@]}"; do
  server_of[$kind]="$kind" transport_of[$kind]=http mode_of[$kind]=mcp era_of[$kind]=2025
  case "$kind" in
    ours|echo) transport_of[$kind]=ws ;;
    ours_ws_2026) server_of[$kind]=ours transport_of[$kind]=ws era_of[$kind]=2026 ;;
    ours_http) server_of[$kind]=ours ;;
    ours_http_memory) server_of[$kind]=ours_memory ;;
    ours_http_2026) server_of[$kind]=ours era_of[$kind]=2026 ;;
    base) transport_of[$kind]=ws ;;
    base_ws_2026) server_of[$kind]=base transport_of[$kind]=ws era_of[$kind]=2026 ;;
    base_http_2026) server_of[$kind]=base era_of[$kind]=2026 ;;
  esac
  [[ "$kind" == echo ]] && mode_of[$kind]=echo
done
declare -A server_pid_of server_port_of
for kind in "${kinds[@]}"; do
  server="${server_of[$kind]}"
  if [[ -z "${server_pid_of[$server]:-}" ]]; then
    start_server "$server"
    server_pid_of[$server]="$server_pid" server_port_of[$server]="$server_port"
  fi
  pid_of[$kind]="${server_pid_of[$server]}"
  url_of[$kind]="${transport_of[$kind]}://127.0.0.1:${server_port_of[$server]}/mcp"
done
# shellcheck source=peers/rows.sh
source "$bench/peers/rows.sh"   # add_peer_rows: the other MCP servers, after ours
[[ "$PEERS" == 1 ]] && add_peer_rows

steal_before="$(cpu_steal_ticks "$SERVER_CPU") $(cpu_steal_ticks "$CLIENT_CPU")"
log "==> throughput: servers on CPU $SERVER_CPU, load generator on CPU $CLIENT_CPU; $REPS x ($WARMUP warm-up + $DURATION measured) per row and concurrency"
for c in $CONNS; do
  for ((rep = 1; rep <= REPS; rep++)); do
    for kind in "${kinds[@]}"; do
      out="$results/load-$kind-c$c-r$rep.json"
      taskset -c "$CLIENT_CPU" "$loadgen" "${transport_of[$kind]}" -url "${url_of[$kind]}" -mode "${mode_of[$kind]}" \
        -era "${era_of[$kind]}" -conns "$c" -warmup "$WARMUP" -duration "$DURATION" -label "$kind" -server-pid "${pid_of[$kind]}" \
        >"$out" 2>"$logs/loadgen-$kind-c$c-r$rep.log" \
        || { cat "$logs/loadgen-$kind-c$c-r$rep.log" >&2; die "load generator failed against $kind"; }
      check_alive "${server_of[$kind]}" "${pid_of[$kind]}"
      log "    $(printf '%-14s' "$kind") conns=$c round $rep: $("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); r, e = d["rate"], d["errors"] + d["setup_errors"]; print(f"{r:.0f} calls/s, {e} errors")' "$out" 2>/dev/null || echo '?')"
    done
  done
done
steal="$(steal_pct "$steal_before" "$(cpu_steal_ticks "$SERVER_CPU") $(cpu_steal_ticks "$CLIENT_CPU")"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for server in "${!server_pid_of[@]}"; do
  stop "${server_pid_of[$server]}"
done

# ------------------------------------------------------------------ 2. memory per idle session
memory() {
  local kind="$1" mode=mcp before after idle_pid i server_url
  [[ "$kind" == echo ]] && mode=echo
  start_server "$kind" "mem-$kind"   # a fresh process: nothing left over from the throughput runs
  server_url="ws://127.0.0.1:$server_port/mcp"
  # Warm-up: a few sessions with calls, so lazily built state is in the baseline.
  taskset -c "$CLIENT_CPU" "$loadgen" ws -url "$server_url" -mode "$mode" -conns 10 -warmup 0s -duration 1s \
    -label "$kind-warmup" >"$results/mem-warmup-$kind.json" 2>>"$logs/loadgen-mem-$kind.log" \
    || die "warm-up failed against $kind"
  sleep 1
  before="$(rss_kib "$server_pid")"
  start "idle-$kind" "$CLIENT_CPU" "$loadgen" idle -url "$server_url" -mode "$mode" -conns "$IDLE_SESSIONS" -label "$kind"
  idle_pid="$started_pid"
  for ((i = 0; i < 1200; i++)); do
    grep -q '"event":"ready"' "$logs/idle-$kind.log" 2>/dev/null && break
    kill -0 "$idle_pid" 2>/dev/null || { cat "$logs/idle-$kind.log" >&2; die "idle load generator exited"; }
    sleep 0.1
  done
  grep -q '"event":"ready"' "$logs/idle-$kind.log" || die "idle sessions were not opened within 120s"
  sleep 3   # settle: let the server finish any work for the last sessions
  after="$(rss_kib "$server_pid")"
  check_alive "mem-$kind" "$server_pid"
  stop "$idle_pid"
  grep '^{' "$logs/idle-$kind.log" >"$results/mem-$kind.jsonl" || true
  printf '{"label":"%s","sessions":%d,"rss_before_kib":%d,"rss_after_kib":%d}\n' \
    "$kind" "$IDLE_SESSIONS" "$before" "$after" >"$results/mem-$kind.json"
  stop "$server_pid"
}

log "==> memory: $IDLE_SESSIONS idle WebSocket sessions"
memory ours
memory echo

stop "$fdb_pid"
rm -rf "$fdb_dir"
fdb_dir=""

# ------------------------------------------------------------------ 3. report
env_info="$("$PY" -c 'import platform,tornado,uvloop; print(f"python {platform.python_version()}, tornado {tornado.version}, uvloop {uvloop.__version__}")')"
sdk_info="$("$SDK_PY" - <<'PYEOF'
import importlib.metadata as m
import importlib.util as u
loop = "uvloop" if u.find_spec("uvloop") else "asyncio"
http = "httptools" if u.find_spec("httptools") else "h11"
print(f"mcp {m.version('mcp')}, uvicorn {m.version('uvicorn')} (loop={loop}, http={http})")
PYEOF
)"
log "results in $results (run took ${SECONDS}s)"
"$PY" "$bench/report.py" "$results" --env "$env_info" --sdk "$sdk_info" \
  --cpus "server CPU $SERVER_CPU, load generator CPU $CLIENT_CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $ncpu CPUs" \
  --steal "$steal" \
  | tee "$results/report.txt"
if [[ -n "$BASELINE" ]]; then
  "$PY" "$bench/report_baseline.py" "$results" "$BASELINE" | tee -a "$results/report.txt"
fi
