#!/usr/bin/env bash
# `make test`: the app's tests, the collection's tests and molecule's scenario on the local cluster.
# The scenario's first half (cluster up, converge, idempotence) runs in the background while the app
# and the collection are tested: on two cores, a cold bring-up is largely module downloads and
# single-threaded links, a warm one largely waiting on daemons and rollouts. Then verify (the
# collection's verify.yml and tests/cluster) and destroy run in the foreground, as `molecule test`
# would run them. `make test-cluster` is the plain `molecule test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/hack/lib/common.sh"
cd "$root"
molecule=(env "PATH=$root/.venv-ansible/bin:$PATH" "MCP_SDK2_PYTHON=$root/.venv-sdk2/bin/python"
  "$root/.venv-ansible/bin/molecule")
cluster_log="$KRINGEN_LOGS/test-cluster-setup.log"

bash hack/localcluster/down.sh   # clears what a killed earlier run left (processes, mounts, rules)

# The background half has its own process group, so a failure here can stop all of it.
setsid bash -c '
  set -euo pipefail
  bash hack/localcluster/up.sh >/dev/null
  "$@" converge
  "$@" idempotence
' cluster-setup "${molecule[@]}" >"$cluster_log" 2>&1 &
setup=$!
stop_setup() {
  if kill -0 "$setup" 2>/dev/null; then
    kill -- "-$setup" 2>/dev/null || true
    bash hack/localcluster/down.sh >/dev/null 2>&1 || true
  fi
}
trap stop_setup EXIT
log "cluster setup (up, converge, idempotence) runs in the background; its log: $cluster_log"

make --no-print-directory test-app
make --no-print-directory test-collection

log "waiting for the cluster setup; its log so far, then as it goes:"
tail -n +1 --pid="$setup" -f "$cluster_log"
wait "$setup" || die "the cluster setup failed (log: $cluster_log)"
trap - EXIT

rc=0
"${molecule[@]}" verify || rc=$?
"${molecule[@]}" destroy || rc=$((rc ? rc : 1))
bash hack/localcluster/down.sh
exit "$rc"
