# Settings and helpers shared by the local-cluster scripts. Sourced, never run.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CLUSTER_DIR="${CLUSTER_DIR:-$KRINGEN_CACHE/cluster}"
CERTS="$CLUSTER_DIR/pki"
RUN="$CLUSTER_DIR/run"           # pid files
LOGS="$CLUSTER_DIR/logs"
KUBECONFIG_ADMIN="$CLUSTER_DIR/kubeconfig"
NODE_NAME="kringen-node"
NODE_IP="10.99.0.1"               # on lo: reachable from pods, never routed out
NODE_IFACE="lo"
POD_CIDR="10.88.0.0/16"
SERVICE_CIDR="10.0.0.0/24"
API_SERVICE_IP="10.0.0.1"
DNS_SERVICE_IP="10.0.0.10"
CLUSTER_DOMAIN="cluster.local"
REGISTRY="127.0.0.1:5000"
PAUSE_IMAGE="$REGISTRY/kringen/pause:3.10"
BASE_IMAGE="$REGISTRY/kringen/python:3.11-bookworm"   # also in inventories/local (the server image's base)
CONTAINERD_ROOT="/var/lib/kringen-containerd"
CONTAINERD_STATE="/run/kringen-containerd"
CONTAINERD_SOCK="$CONTAINERD_STATE/containerd.sock"
CONTAINERD_CONFIG_DIR="$CLUSTER_DIR/containerd"
CNI_CONF_DIR="/etc/cni/net.d"
CNI_BIN_DIR="/usr/lib/cni"
KUBELET_ROOT="/var/lib/kubelet"
VOLUMES="$CLUSTER_DIR/volumes"
NETPOL_QUEUE=100                  # the NFQUEUE of kube-network-policies (addons.sh, host.sh)
mkdir -p "$CLUSTER_DIR" "$CERTS" "$RUN" "$LOGS"
export DOCKER_BUILDKIT=0  # the Debian dockerd has no BuildKit front end to pull; the classic builder needs none

k8s_bin() { echo "$KUBERNETES_BIN/$1"; }
kubectl_admin() { "$KUBERNETES_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

node_ready() {
  [[ "$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
dns_answers() {
  python3 "$(dirname "${BASH_SOURCE[0]}")/dns_check.py" "$DNS_SERVICE_IP" "kubernetes.default.svc.$CLUSTER_DOMAIN"
}

# running NAME: is the process recorded in $RUN/NAME.pid alive?
running() {
  local pidfile="$RUN/$1.pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# start_daemon NAME CMD...: start CMD in the background (once), logging to $LOGS/NAME.log. A daemon
# already running with another command line (new flags, a new binary) is restarted with this one.
start_daemon() {
  local name="$1"; shift
  local cmdline
  cmdline="$(printf '%q ' "$@")"
  if running "$name"; then
    [[ "$(cat "$RUN/$name.cmd" 2>/dev/null)" == "$cmdline" ]] && return 0
    echo "$name: command line changed, restarting it" >&2
    stop_daemon "$name"
  fi
  nohup "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  printf '%s' "$cmdline" >"$RUN/$name.cmd"
}

# write_if_changed FILE: stdin to FILE, leaving FILE untouched when the content is the same
# (kube-proxy exits when its configuration file changes).
write_if_changed() {
  local file="$1" tmp
  tmp="$(mktemp "$file.XXXX")"
  cat >"$tmp"
  if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv "$tmp" "$file"; fi
}

stop_daemon() {
  local name="$1" pidfile="$RUN/$1.pid" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile" "$RUN/$name.cmd"
}

# built_version BINARY: the version a build script put in its output directory's name
# (~/.cache/kringen-mcp/bin/ferretdb-v1.24.2/ferretdb -> v1.24.2; names may hold dashes too:
# kube-network-policies-v0.8.0 -> v0.8.0).
built_version() {
  local dir
  dir="$(basename "$(dirname "$1")")"
  if [[ "$dir" == *-v* ]]; then echo "v${dir##*-v}"; else echo "${dir#*-}"; fi
}

# build_and_push IMAGE CONTEXT: docker build (log in $LOGS), push to the local registry, drop CONTEXT.
build_and_push() {
  local image="$1" context="$2" repo="${1#*/}"
  repo="${repo%:*}"
  docker build -q -t "$image" "$context" >"$LOGS/build-${repo//\//-}.log" 2>&1
  docker push -q "$image" >/dev/null
  rm -rf "$context"
  echo "$image built"
}

# registry_has IMAGE: is REGISTRY/REPO:TAG already in the local registry?
registry_has() {
  local ref="${1#*/}"
  curl -fs -o /dev/null "http://$REGISTRY/v2/${ref%:*}/manifests/${ref##*:}" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
}

# wait_for WHAT SECONDS CMD...: retry CMD until it succeeds.
wait_for() {
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "timed out after ${seconds}s waiting for $what" >&2; return 1; fi
    sleep 1
  done
}

# resolve_binaries: the directories/paths of the binaries built from the Go module proxy (building
# what is missing). Exported, so the scripts up.sh runs reuse them instead of asking again.
# Cold, the builds run in two lanes: one Go build alone leaves a core idle while it downloads
# modules and links, and the two lanes are balanced by measured build times (about 10 min each).
resolve_binaries() {
  [[ -n "${KUBERNETES_BIN:-}" && -n "${ETCD_BIN:-}" && -n "${COREDNS_BIN:-}" && -n "${FERRETDB_BIN:-}" \
     && -n "${METRICS_SERVER_BIN:-}" && -n "${LOCAL_PATH_PROVISIONER_BIN:-}" && -n "${KUBE_NETWORK_POLICIES_BIN:-}" \
     && -n "${TRAEFIK_BIN:-}" && -n "${GATEWAY_API_CRDS:-}" ]] \
     && return 0
  local results lane_a lane_b rc=0
  results="$(mktemp -d)"
  build_lane "$results/a" kubernetes=KUBERNETES_BIN local-path-provisioner=LOCAL_PATH_PROVISIONER_BIN \
    kube-network-policies=KUBE_NETWORK_POLICIES_BIN ferretdb=FERRETDB_BIN gateway-api=GATEWAY_API_CRDS &
  lane_a=$!
  build_lane "$results/b" traefik=TRAEFIK_BIN etcd=ETCD_BIN coredns=COREDNS_BIN metrics-server=METRICS_SERVER_BIN &
  lane_b=$!
  wait "$lane_a" || rc=$?
  wait "$lane_b" || rc=$?
  if ((rc == 0)); then source "$results/a" && source "$results/b" || rc=$?; fi
  rm -rf "$results"
  ((rc == 0)) || return "$rc"
  export KUBERNETES_BIN ETCD_BIN COREDNS_BIN FERRETDB_BIN METRICS_SERVER_BIN LOCAL_PATH_PROVISIONER_BIN \
    KUBE_NETWORK_POLICIES_BIN TRAEFIK_BIN GATEWAY_API_CRDS
}

# build_lane RESULTS SCRIPT=VARIABLE...: run hack/build/SCRIPT.sh for each in turn, appending
# VARIABLE=<the path it printed last> to RESULTS; stop at the first failure (`|| return`: a step
# runs this where errexit is off, and a failed build must fail the step).
build_lane() {
  local results="$1" spec path
  shift
  for spec; do
    path="$(bash "$(dirname "${BASH_SOURCE[0]}")/../build/${spec%%=*}.sh" | tail -1)" || return
    printf '%s=%q\n' "${spec#*=}" "$path" >>"$results"
  done
}
