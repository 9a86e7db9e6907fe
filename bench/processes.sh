#!/usr/bin/env bash
# `make bench-procs`: the server with one process against MCP_PROCESSES=2 (two processes on one port,
# SO_REUSEPORT) on this machine's cores, for stateless 2026-07-28 tools/call over WebSocket and over
# Streamable HTTP, in interleaved rounds. Nothing is pinned: the load generator and FerretDB compete
# with the server for the same cores, as they would with a pod's neighbours. Prints medians and the
# ratio two/one (see bench/README.md for what the figure means).
#
# Environment knobs: BENCH_WARMUP [1s] BENCH_DURATION [4s] BENCH_REPS [3] BENCH_PROCS_CONNS [50]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bench="$root/bench"
build="$bench/.build"
# shellcheck source=../hack/lib/common.sh
source "$root/hack/lib/common.sh"   # log, die, step

WARMUP="${BENCH_WARMUP:-1s}"
DURATION="${BENCH_DURATION:-4s}"
REPS="${BENCH_REPS:-3}"
CONNS="${BENCH_PROCS_CONNS:-50}"
PY="$root/.venv/bin/python"
# shellcheck source=procs.sh
source "$bench/procs.sh"   # use_results, start, stop, free_port, wait_port, wait_ready, check_alive, start_ferretdb, start_ours
use_results "$build/results/procs-$(date -u +%Y%m%dT%H%M%SZ)"

loadgen="$build/loadgen"
step "bench-loadgen" bash -c "cd '$bench/loadgen' && go build -trimpath -o '$loadgen' ."
ferretdb="$(bash "$root/hack/build/ferretdb.sh")"
export PYTHONPATH="$root/app/src${PYTHONPATH:+:$PYTHONPATH}"

start_ferretdb ""
declare -A pid_of port_of
for procs in 1 2; do
  port_of[$procs]="$(free_port)"
  MCP_PROCESSES="$procs" start_ours "procs-$procs" "" "${port_of[$procs]}"
  pid_of[$procs]="$started_pid"
  wait_port "${port_of[$procs]}" "${pid_of[$procs]}" "procs-$procs"
  wait_ready "${port_of[$procs]}" "${pid_of[$procs]}" "procs-$procs"
done

log "==> 1 against 2 server processes, $CONNS connections, $REPS x ($WARMUP warm-up + $DURATION measured), nothing pinned"
for ((rep = 1; rep <= REPS; rep++)); do
  for transport in ws http; do
    for procs in 1 2; do
      out="$results/load-$transport-p$procs-r$rep.json"
      "$loadgen" "$transport" -url "$transport://127.0.0.1:${port_of[$procs]}/mcp" -mode mcp -era 2026 \
        -conns "$CONNS" -warmup "$WARMUP" -duration "$DURATION" -label "$transport-p$procs" -server-pid "${pid_of[$procs]}" \
        >"$out" 2>"$logs/loadgen-$transport-p$procs-r$rep.log" \
        || { cat "$logs/loadgen-$transport-p$procs-r$rep.log" >&2; die "load generator failed against $procs process(es)"; }
      check_alive "procs-$procs" "${pid_of[$procs]}"
    done
  done
done
for procs in 1 2; do
  stop "${pid_of[$procs]}"
done
"$PY" "$bench/report_processes.py" "$results" "$(nproc)" | tee "$results/report.txt"
