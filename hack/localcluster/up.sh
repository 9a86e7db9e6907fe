#!/usr/bin/env bash
# `make cluster-up`: a real single-node Kubernetes on this machine, idempotent. Each step prints
# its time; a failed step names its log. The last line printed is the admin kubeconfig's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
start=$SECONDS
# Each step's duration also goes to $LOGS/up-timings.log (one line per step, then the total), so
# cold and warm runs can be compared afterwards.
timings="$LOGS/up-timings.log"
timed_step() {
  local t=$SECONDS rc=0
  step "$@" || rc=$?
  printf '%s %-22s %4ss rc=%s\n' "$(date -u +%FT%TZ)" "$1" "$((SECONDS - t))" "$rc" >>"$timings"
  return "$rc"
}

timed_step cluster-packages bash "$here/packages.sh"
timed_step cluster-binaries resolve_binaries   # a function: its exports stay in this shell
timed_step cluster-docker bash "$here/docker.sh"
timed_step cluster-host-network bash "$here/host.sh"   # after dockerd, which puts its own FORWARD rules first
timed_step cluster-images bash "$here/../images/build.sh"
timed_step cluster-certificates bash "$here/certs.sh"
timed_step cluster-control-plane bash "$here/control-plane.sh"
timed_step cluster-node bash "$here/node.sh"
timed_step cluster-addons bash "$here/addons.sh"
timed_step cluster-dns wait_for "cluster DNS" 120 dns_answers
printf '%s %-22s %4ss\n' "$(date -u +%FT%TZ)" total "$((SECONDS - start))" >>"$timings"
log "local cluster up in $((SECONDS - start))s; KUBECONFIG=$KUBECONFIG_ADMIN"
echo "$KUBECONFIG_ADMIN"
