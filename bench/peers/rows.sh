# The other MCP servers' rows of bench/run.sh (sourced by it; uses its start_server, loadgen, logs,
# results and row tables). See bench/README.md, "The other implementations".
#
# Each spec: KIND SERVER ERAS MODE-TEXT. SERVER is PEER.MODE (a command from bench/peers/build.sh
# PEER, given PORT MODE) or a server start_server knows by name. Each era is tried first with a
# short run; the row KIND_ERA is measured when its server answered that run without an error.
# What happened to every row goes to $results/peers.tsv (row, era, status, package, mode, note),
# which report.py reads.
peer_specs=(
  "go_sdk_fast go-sdk.fast 2025 2026|stateless, JSON"
  "go_sdk go-sdk.default 2025 2026|default (sessions, SSE)"
  "rmcp_fast rmcp.fast 2025 2026|no sessions, JSON"
  "rmcp rmcp.default 2025 2026|default (sessions, SSE)"
  "ts2_fast ts2.fast 2025 2026|createMcpHandler, JSON"
  "ts2 ts2.default 2025 2026|sessions, SSE"
  "ts1_json ts1.fast 2025 2026|sessions, JSON"
  "ts1 ts1.default 2025 2026|default (sessions, SSE)"
  "sdk sdk 2026|default (the sdk row's process)"
  "go_bare go-bare.- 2026|ceiling: fixed result"
  "tornado_fixed tornado_fixed 2026|ceiling: fixed result"
)
declare -A peer_cmd peer_what

# build_peer PEER: build it once (bench/peers/build.sh); peer_what[PEER] is empty when it failed.
build_peer() {
  local peer="$1" out
  [[ -n "${peer_what[$peer]+x}" ]] && return 0
  peer_what[$peer]=""
  if out="$(bash "$bench/peers/build.sh" "$peer" 2> >(tee -a "$logs/build-$peer.log" >&2))"; then
    peer_what[$peer]="$(head -n 1 <<<"$out")" peer_cmd[$peer]="$(tail -n +2 <<<"$out")"
  else
    log "WARNING: peer $peer could not be built (log: $logs/build-$peer.log); its rows are not measured"
  fi
}

peer_row() {  # peer_row ROW ERA STATUS WHAT MODE NOTE: one line of peers.tsv
  local note="${6//$'\t'/ }"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${note//$'\n'/ }" >>"$results/peers.tsv"
}

# probe ROW URL ERA: a short run in that era; prints nothing when every call was answered right,
# else the reason.
probe() {
  local out="$results/probe-$1.json"
  taskset -c "$CLIENT_CPU" "$loadgen" http -url "$2" -era "$3" -conns 1 -warmup 0s -duration 300ms -label "$1" \
    >"$out" 2>>"$logs/probe-$1.log" || { echo "load generator failed: $(tail -n 1 "$logs/probe-$1.log")"; return; }
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
if d["errors"] + d["setup_errors"] or not d["calls"]: print(((d["error_samples"] or ["no call answered"])[0])[:300])' "$out"
}

add_peer_rows() {
  local spec kind server eras mode_text peer what era row why
  : >"$results/peers.tsv"
  for spec in "${peer_specs[@]}"; do
    mode_text="${spec#*|}"
    read -r kind server eras <<<"${spec%%|*}"
    peer="${server%%.*}" what="$server"
    if [[ "$server" == *.* ]]; then
      build_peer "$peer"
      what="${peer_what[$peer]}"
      if [[ -z "$what" ]]; then
        peer_row "$kind" "$eras" "not built" "$peer" "$mode_text" "$(tail -n 3 "$logs/build-$peer.log")"
        continue
      fi
    fi
    if [[ -z "${server_pid_of[$server]:-}" ]]; then
      if ! start_server "$server" "peer-${server/./-}"; then
        stop "$server_pid"
        peer_row "$kind" "$eras" "not started" "$what" "$mode_text" "$(tail -n 3 "$logs/peer-${server/./-}.log")"
        continue
      fi
      server_pid_of[$server]="$server_pid" server_port_of[$server]="$server_port"
    fi
    for era in $eras; do
      row="${kind}_$era"
      url_of[$row]="http://127.0.0.1:${server_port_of[$server]}/mcp"
      why="$(probe "$row" "${url_of[$row]}" "$era")"
      if [[ -n "$why" ]]; then
        log "    $row: not measured, era $era refused: $why"
        peer_row "$row" "$era" "refused" "$what" "$mode_text" "$why"
        continue
      fi
      kinds+=("$row")
      server_of[$row]="$server" transport_of[$row]=http mode_of[$row]=mcp era_of[$row]="$era"
      pid_of[$row]="${server_pid_of[$server]}"
      peer_row "$row" "$era" "measured" "$what" "$mode_text" ""
    done
  done
}
