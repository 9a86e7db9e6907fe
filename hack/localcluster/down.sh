#!/usr/bin/env bash
# `make cluster-down`: stop the local cluster's processes (by their recorded pids) and its pods'
# containers, remove the network plumbing it added; keep binaries, registry images and (unless
# --purge) the cluster state: etcd data, certificates, volumes. dockerd and the registry keep running
# (image builds use them); --purge stops the registry too, its images stay on disk.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
purge=false
case "${1:-}" in
  --purge) purge=true ;;
  "") ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac

# pod_pids: every process in the kubelet's pod cgroups (cgroup v1, cgroupfs driver).
pod_pids() { find /sys/fs/cgroup/pids/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null; }
# our_shims: pids of the containerd shims that serve our containerd (not dockerd's).
our_shims() {
  local dir
  for dir in /proc/[0-9]*; do
    [[ "$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null)" == *containerd-shim*" -address $CONTAINERD_SOCK "* ]] \
      && echo "${dir#/proc/}"
  done
}
ctr_() { ctr --address "$CONTAINERD_SOCK" "$@"; }

# Node first, so nothing restarts the pods we stop.
# (`provisioner` is the provisioner.py of clusters started before local-path-provisioner.)
for daemon in metrics-server local-path-provisioner provisioner kube-proxy kubelet; do stop_daemon "$daemon"; done
if running containerd; then
  for ns in $(ctr_ namespaces ls -q 2>/dev/null); do
    for task in $(ctr_ -n "$ns" tasks ls -q 2>/dev/null); do
      ctr_ -n "$ns" tasks kill -a -s KILL "$task" >/dev/null 2>&1 || true
    done
  done
fi
# Whatever is left in the pod cgroups (e.g. after containerd died), then wait for them to go.
pids="$(pod_pids)"
[[ -n "$pids" ]] && kill -9 $pids 2>/dev/null
for _ in $(seq 1 50); do [[ -z "$(pod_pids)" ]] && break; sleep 0.2; done
if running containerd; then
  for ns in $(ctr_ namespaces ls -q 2>/dev/null); do
    for task in $(ctr_ -n "$ns" tasks ls -q 2>/dev/null); do ctr_ -n "$ns" tasks delete -f "$task" >/dev/null 2>&1 || true; done
  done
fi
stop_daemon containerd
shims="$(our_shims)"
[[ -n "$shims" ]] && kill -9 $shims 2>/dev/null
for daemon in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_daemon "$daemon"; done

# Network and mounts: kube-proxy's and our iptables rules, the pods' network namespaces and
# mounts, the bridge, the host-local address reservations (their pods are gone), the node address.
iptables-save | grep -v -E 'KUBE-|KRINGEN-' | iptables-restore 2>/dev/null || true
nft delete table inet kube-network-policies 2>/dev/null || true   # its pod was killed, not stopped
grep -E " ($KUBELET_ROOT|$CONTAINERD_STATE|/run/netns/cni-)" /proc/mounts | awk '{print $2}' | sort -r \
  | xargs -r -n 50 umount -l 2>/dev/null || true
rm -f /run/netns/cni-*
ip link delete cni0 2>/dev/null || true
rm -rf /var/lib/cni/networks/kringen
ip addr del "$NODE_IP/32" dev "$NODE_IFACE" 2>/dev/null || true

if $purge; then
  stop_daemon registry
  rm -rf "$CLUSTER_DIR/etcd" "$VOLUMES" "$CERTS" "$CLUSTER_DIR"/*.kubeconfig "$KUBECONFIG_ADMIN" \
         "$KUBELET_ROOT" "$CONTAINERD_ROOT" "$CONTAINERD_STATE"
  echo "local cluster stopped and its state removed (binaries and registry images kept)"
else
  echo "local cluster stopped (state kept in $CLUSTER_DIR; registry still serving images)"
fi
