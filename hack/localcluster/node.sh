#!/usr/bin/env bash
# The node: containerd with the CRI plugin (its own instance, apart from dockerd's), a bridge CNI,
# kubelet and kube-proxy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
resolve_binaries

# --- containerd ------------------------------------------------------------------------------
mkdir -p "$CONTAINERD_CONFIG_DIR/certs.d/$REGISTRY" "$CONTAINERD_ROOT" "$CONTAINERD_STATE"
write_if_changed "$CONTAINERD_CONFIG_DIR/certs.d/$REGISTRY/hosts.toml" <<CONF
server = "http://$REGISTRY"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
CONF
write_if_changed "$CONTAINERD_CONFIG_DIR/config.toml" <<CONF
version = 2
root = "$CONTAINERD_ROOT"
state = "$CONTAINERD_STATE"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This machine forbids lowering oom_score_adj (runc would fail with "can't get final child's PID");
  # clamp the kubelet's negative values to containerd's own instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$CONTAINERD_CONFIG_DIR/certs.d"
CONF
start_daemon containerd /usr/bin/containerd --config "$CONTAINERD_CONFIG_DIR/config.toml"
wait_for "containerd" 60 ctr --address "$CONTAINERD_SOCK" version

# --- CNI: one bridge, host-local addresses, portmap for hostPorts --------------------------
mkdir -p "$CNI_CONF_DIR"
write_if_changed "$CNI_CONF_DIR/10-kringen.conflist" <<CONF
{
  "cniVersion": "0.4.0",
  "name": "kringen",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
CONF

# --- kubelet ---------------------------------------------------------------------------------
write_if_changed "$CLUSTER_DIR/kubelet.yaml" <<CONF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$CERTS/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$CERTS/kubelet.crt"
tlsPrivateKeyFile: "$CERTS/kubelet.key"
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
clusterDNS: ["$DNS_SERVICE_IP"]
clusterDomain: "$CLUSTER_DOMAIN"
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
resolvConf: /etc/resolv.conf
# Images live only in the local registry and this node: never collect them (the pause image above all).
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "200Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
maxPods: 60
serializeImagePulls: false
CONF
# containerd's socket answers before its CRI plugin has restored its containers ("server is not
# initialized yet"), and a kubelet started in between exits at once: start it until it stays up
# (a kubelet already running as asked is left alone, without the wait).
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  pid_before="$(cat "$RUN/kubelet.pid" 2>/dev/null || true)"
  start_daemon kubelet "$(k8s_bin kubelet)" --config "$CLUSTER_DIR/kubelet.yaml" \
    --kubeconfig "$CLUSTER_DIR/kubelet.kubeconfig" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --root-dir "$KUBELET_ROOT" --v=1
  [[ "$(cat "$RUN/kubelet.pid")" == "$pid_before" ]] && running kubelet && break
  sleep 3
  running kubelet && break
  echo "kubelet exited (attempt $attempt; containerd's CRI not ready yet?), starting it again" >&2
done

# --- kube-proxy ------------------------------------------------------------------------------
write_if_changed "$CLUSTER_DIR/kube-proxy.yaml" <<CONF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$CLUSTER_DIR/kube-proxy.kubeconfig"}
mode: iptables
clusterCIDR: "$POD_CIDR"
hostnameOverride: "$NODE_NAME"
conntrack: {maxPerCore: 0}
oomScoreAdj: 0
CONF
start_daemon kube-proxy "$(k8s_bin kube-proxy)" --config "$CLUSTER_DIR/kube-proxy.yaml" --v=1

wait_for "node $NODE_NAME Ready" 180 node_ready
echo "node $NODE_NAME Ready"
