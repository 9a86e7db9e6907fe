#!/usr/bin/env bash
# restart.sh DAEMON...: stop these daemons of the local cluster (containerd, kubelet, ...) and bring
# the node up again, as an upgrade or a crash of the node's agents would. Running containers are
# not theirs to stop: their shims keep them running, so pods keep serving meanwhile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
resolve_binaries
(($# > 0)) || die "usage: restart.sh DAEMON... (e.g. containerd kubelet)"
for daemon in "$@"; do
  running "$daemon" || die "$daemon is not running here"
  stop_daemon "$daemon"
  log "stopped $daemon"
done
bash "$here/node.sh" >/dev/null
wait_for "node $NODE_NAME Ready" 120 node_ready
log "restarted $*; node Ready"
