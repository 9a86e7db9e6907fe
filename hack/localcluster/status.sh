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
# field_is NAMESPACE OBJECT JSONPATH VALUE: does the object's field hold VALUE?
field_is() { [[ "$(kubectl_admin -n "$1" get "$2" -o jsonpath="$3")" == "$4" ]]; }
check "kube-network-policies $(built_version "$KUBE_NETWORK_POLICIES_BIN")" \
  field_is kube-system daemonset/kube-network-policies '{.status.numberReady}' 1
check "Traefik $(built_version "$TRAEFIK_BIN")" field_is traefik deployment/traefik '{.status.readyReplicas}' 1
check "Gateway mcp-gateway" \
  field_is traefik gateway/mcp-gateway '{.status.conditions[?(@.type=="Programmed")].status}' True
echo "KUBECONFIG=$KUBECONFIG_ADMIN"
exit "$healthy"
