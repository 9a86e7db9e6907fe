#!/usr/bin/env bash
# `make cluster-status`: is every part of the local cluster alive? Exits 1 if not.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
if [[ ! -f "$KUBECONFIG_ADMIN" ]]; then
  echo "no local cluster here (no $KUBECONFIG_ADMIN); start one with hack/localcluster/up.sh"
  exit 1
fi
resolve_binaries
healthy=0
check() {
  local what="$1"; shift
  if "$@" >/dev/null 2>&1; then printf '  %-26s ok\n' "$what"; else printf '  %-26s DOWN\n' "$what"; healthy=1; fi
}
for daemon in registry etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy \
              local-path-provisioner metrics-server; do
  check "$daemon" running "$daemon"
done
check "docker" docker info
check "apiserver /readyz" kubectl_admin get --raw /readyz
check "node $NODE_NAME Ready" node_ready
check "cluster DNS" dns_answers
check "metrics API (kubectl top)" kubectl_admin get --raw "/apis/metrics.k8s.io/v1beta1/nodes/$NODE_NAME"
check "StorageClass standard" kubectl_admin get storageclass standard
netpol_ready() {
  [[ "$(kubectl_admin -n kube-system get daemonset kube-network-policies -o jsonpath='{.status.numberReady}')" == 1 ]]
}
check "kube-network-policies $(built_version "$KUBE_NETWORK_POLICIES_BIN")" netpol_ready
traefik_ready() {
  [[ "$(kubectl_admin -n traefik get deployment traefik -o jsonpath='{.status.readyReplicas}')" == 1 ]]
}
check "Traefik $(built_version "$TRAEFIK_BIN")" traefik_ready
gateway_programmed() {
  [[ "$(kubectl_admin -n traefik get gateway mcp-gateway -o jsonpath='{.status.conditions[?(@.type=="Programmed")].status}')" == True ]]
}
check "Gateway mcp-gateway" gateway_programmed
echo "KUBECONFIG=$KUBECONFIG_ADMIN"
exit "$healthy"
