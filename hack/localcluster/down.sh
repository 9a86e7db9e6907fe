#!/usr/bin/env bash
# `make cluster-down`: stop the local cluster's processes and containers; keep binaries, images
# and (unless --purge) the cluster state (etcd data, volumes, certificates).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
purge=false
[[ "${1:-}" == "--purge" ]] && purge=true

for daemon in provisioner kube-proxy kubelet; do stop_daemon "$daemon"; done
# Pod containers: stop them through our containerd, then containerd itself.
if running containerd; then
  for ns in $(ctr --address "$CONTAINERD_SOCK" namespaces ls -q 2>/dev/null); do
    for task in $(ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks ls -q 2>/dev/null); do
      ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks kill -s KILL "$task" >/dev/null 2>&1 || true
    done
    sleep 1
    for task in $(ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks ls -q 2>/dev/null); do
      ctr --address "$CONTAINERD_SOCK" -n "$ns" tasks delete "$task" >/dev/null 2>&1 || true
    done
  done
fi
stop_daemon containerd
# Shims of our containerd that outlived it.
pkill -f "containerd-shim-runc-v2 -namespace k8s.io -id .* -address $CONTAINERD_SOCK" 2>/dev/null || true
for daemon in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_daemon "$daemon"; done
# kube-proxy's rules and our forwarding rules.
iptables-save | grep -v -E 'KUBE-|KRINGEN-' | iptables-restore 2>/dev/null || true
grep -E " $KUBELET_ROOT/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null || true
grep -E "/run/kringen-containerd/|/var/run/netns/cni-" /proc/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null || true
ip link delete cni0 2>/dev/null || true
if $purge; then
  stop_daemon registry
  rm -rf "$CLUSTER_DIR/etcd" "$VOLUMES" "$CERTS" "$CLUSTER_DIR"/*.kubeconfig "$KUBECONFIG_ADMIN" \
         "$KUBELET_ROOT" "$CONTAINERD_ROOT" /var/lib/cni/networks/kringen
  echo "local cluster stopped and its state removed (binaries and registry images kept)"
else
  echo "local cluster stopped (state kept in $CLUSTER_DIR; registry still serving images)"
fi
