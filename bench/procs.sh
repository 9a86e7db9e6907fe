# Processes of bench/run.sh, bench/soak.sh and bench/processes.sh: start them pinned, wait for them,
# stop exactly those started. Sourced, never run; the caller sets $logs (one NAME.log per process;
# use_results sets it) and $PY (the .venv's python), and sources hack/lib/common.sh (log, die) first.

# use_results DIR: this run's results folder, with the processes' logs in DIR/logs (sets results, logs).
use_results() {
  results="$1" logs="$1/logs"
  mkdir -p "$logs"
}

pids=()        # started and not yet reaped (a reaped pid may be reused: never signal it)
fdb_dir=""
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  [[ -n "$fdb_dir" ]] && rm -rf "$fdb_dir"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started_pid=""
# start NAME CPU CMD...: start CMD in the background, pinned to CPU, output in $logs/NAME.log.
start() {
  local name="$1" cpu="$2"; shift 2
  if [[ -n "$cpu" ]]; then
    taskset -c "$cpu" "$@" >"$logs/$name.log" 2>&1 &
  else
    "$@" >"$logs/$name.log" 2>&1 &
  fi
  started_pid=$!
  pids+=("$started_pid")
}

# stop PID: SIGTERM, wait (up to 20 s), SIGKILL if it is still there; then forget it.
stop() {
  local pid="$1" i p keep=()
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid" 2>/dev/null || true; }
  fi
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT PID NAME [soft]: wait until PORT accepts connections (PID must stay alive); with
# soft, a failure is logged and returned (1) instead of ending the run.
wait_port() {
  local port="$1" pid="$2" name="$3" fail=die i
  [[ "${4:-}" == soft ]] && fail=log
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logs/$name.log" >&2; $fail "$name exited before listening on $port"; return 1; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  tail -n 30 "$logs/$name.log" >&2
  $fail "$name did not listen on $port within 30s"
  return 1
}

# wait_ready PORT PID NAME: our server's /ready answers 200 (MongoDB reachable).
wait_ready() {
  local port="$1" pid="$2" name="$3" i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logs/$name.log" >&2; die "mcp_server exited"; }
    if "$PY" -c 'import sys,urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)' \
        "http://127.0.0.1:$port/ready" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 30 "$logs/$name.log" >&2
  die "mcp_server not ready within 30s"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

check_alive() {  # check_alive NAME PID
  kill -0 "$2" 2>/dev/null || { tail -n 30 "$logs/$1.log" >&2; die "$1 server died during the run"; }
}

# raise_fds WANT: raise the open-files limit to WANT (soft and, when we may, hard); sets fds_hard
# to the hard limit in force: WANT or less when it cannot be raised (containers often lack
# CAP_SYS_RESOURCE).
fds_hard=""
raise_fds() {
  local want="$1"
  fds_hard="$(ulimit -Hn)"
  [[ "$fds_hard" == unlimited ]] && fds_hard=1048576
  if ((fds_hard < want)); then
    ulimit -Hn "$want" 2>/dev/null && fds_hard="$want"
  fi
  ulimit -Sn "$(( fds_hard < 1048576 ? fds_hard : 1048576 ))"
}

# start_ferretdb CPU: FerretDB (SQLite) in a temporary directory (removed by cleanup) on a free
# port, pinned to CPU; sets fdb_port and fdb_pid. $ferretdb is its binary (hack/build/ferretdb.sh).
fdb_port="" fdb_pid=""
start_ferretdb() {
  fdb_dir="$(mktemp -d "${TMPDIR:-/tmp}/bench-ferretdb.XXXXXX")"
  mkdir -p "$fdb_dir/data"
  fdb_port="$(free_port)"
  start ferretdb "$1" "$ferretdb" --handler=sqlite --sqlite-url="file:$fdb_dir/data/" \
    --listen-addr="127.0.0.1:$fdb_port" --state-dir="$fdb_dir" --debug-addr=- --telemetry=disable --log-level=warn
  fdb_pid="$started_pid"
  wait_port "$fdb_port" "$fdb_pid" ferretdb
}

# start_ours NAME CPU PORT [STORE]: our server (`python -m mcp_server`) on 127.0.0.1:PORT against
# start_ferretdb's FerretDB, authentication off, rate limit off, the conformance fixtures on;
# STORE is MCP_SESSION_STORE (mongodb, the default, or memory). Sets started_pid.
start_ours() {
  MCP_HOST=127.0.0.1 MCP_PORT="$3" MONGODB_URI="mongodb://127.0.0.1:$fdb_port/" MONGODB_DATABASE=bench \
  MCP_AUTH_DISABLED=true MCP_RATE_LIMIT=0 MCP_PRINCIPAL_RATE_LIMIT=0 MCP_METRICS_PORT=0 MCP_LOG_LEVEL=warning MCP_LOG_FORMAT=text \
  MCP_CONFORMANCE_FIXTURES=true MCP_DRAIN_SECONDS=0 MCP_SHUTDOWN_TIMEOUT_SECONDS=1 \
  MCP_SESSION_STORE="${4:-mongodb}" \
    start "$1" "$2" "$PY" -m mcp_server
}
