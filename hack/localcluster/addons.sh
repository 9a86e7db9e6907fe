#!/usr/bin/env bash
# Cluster add-ons: CoreDNS (cluster names only; nothing is forwarded off the machine), the
# `standard` StorageClass with Rancher's local-path-provisioner, and metrics-server (the resource
# metrics API for kubectl top and the HPA). Both of the latter run on the host, beside the kubelet.
# kube-network-policies (a host-network pod) enforces NetworkPolicies. Traefik (a pod) is the
# gateway: Ingress on node port 30880, Gateway API (standard-channel CRDs) on node port 30881.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
resolve_binaries
here="$(cd "$(dirname "$0")" && pwd)"

# scratch_addon NAME BINARY [SED_EXPRESSION...]: the image kringen/NAME:<version> holding BINARY
# FROM scratch (built once), and manifests/NAME.yaml applied with @IMAGE@, @VERSION@ and the
# expressions' substitutions made.
scratch_addon() {
  local name="$1" binary="$2" version image
  shift 2
  version="$(built_version "$binary")"
  image="$REGISTRY/kringen/$name:$version"
  bash "$here/../images/scratch-image.sh" "$image" "$binary" >/dev/null
  local edits=(-e "s|@IMAGE@|$image|g" -e "s|@VERSION@|$version|g") expression
  for expression in "$@"; do edits+=(-e "$expression"); done
  sed "${edits[@]}" "$here/manifests/$name.yaml" | kubectl_admin apply -f - >/dev/null
}

scratch_addon coredns "$COREDNS_BIN" "s|@DNS_IP@|$DNS_SERVICE_IP|g" "s|@DOMAIN@|$CLUSTER_DOMAIN|g"

# --- volumes: local-path-provisioner ---------------------------------------------------------
stop_daemon provisioner   # the host-directory provisioner.py that came before it
# A StorageClass cannot change its provisioner or binding mode in place.
if [[ "$(kubectl_admin get storageclass standard -o jsonpath='{.provisioner}' 2>/dev/null)" == kringen.io/local-path ]]; then
  kubectl_admin delete storageclass standard >/dev/null
fi
kubectl_admin apply -f "$here/manifests/storage.yaml" >/dev/null
mkdir -p "$VOLUMES"
write_if_changed "$CLUSTER_DIR/local-path-config.json" <<CONF
{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["$VOLUMES"]}]}
CONF
write_if_changed "$CLUSTER_DIR/local-path-helper-pod.yaml" <<CONF
apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
spec:
  priorityClassName: system-node-critical
  automountServiceAccountToken: false
  containers:
    - name: helper-pod
      image: $BASE_IMAGE
      imagePullPolicy: IfNotPresent
CONF
start_daemon local-path-provisioner "$LOCAL_PATH_PROVISIONER_BIN" start \
  --kubeconfig "$KUBECONFIG_ADMIN" --provisioner-name rancher.io/local-path \
  --namespace local-path-storage --service-account-name local-path-provisioner \
  --configmap-name local-path-config --config "$CLUSTER_DIR/local-path-config.json" \
  --helper-pod-file "$CLUSTER_DIR/local-path-helper-pod.yaml" --helper-image "$BASE_IMAGE"

# --- metrics-server --------------------------------------------------------------------------
sed -e "s|@NODE_IP@|$NODE_IP|g" -e "s|@CA_BUNDLE@|$(base64 -w0 "$CERTS/ca.crt")|g" \
  "$here/manifests/metrics-server.yaml" | kubectl_admin apply -f - >/dev/null
ms_kubeconfig="$CLUSTER_DIR/metrics-server.kubeconfig"
start_daemon metrics-server "$METRICS_SERVER_BIN" \
  --bind-address "$NODE_IP" --secure-port 4443 \
  --tls-cert-file "$CERTS/metrics-server.crt" --tls-private-key-file "$CERTS/metrics-server.key" \
  --kubeconfig "$ms_kubeconfig" --authentication-kubeconfig "$ms_kubeconfig" --authorization-kubeconfig "$ms_kubeconfig" \
  --kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$CERTS/ca.crt" \
  --metric-resolution 15s

# --- NetworkPolicies: kube-network-policies -------------------------------------------------
scratch_addon kube-network-policies "$KUBE_NETWORK_POLICIES_BIN" "s|@NODE_NAME@|$NODE_NAME|g" \
  "s|@QUEUE@|$NETPOL_QUEUE|g"

# --- gateway: Gateway API CRDs and Traefik -------------------------------------------------------
kubectl_admin apply --server-side --force-conflicts -f "$GATEWAY_API_CRDS" >/dev/null
kubectl_admin wait --for=condition=Established --timeout=60s -f "$GATEWAY_API_CRDS" >/dev/null
scratch_addon traefik "$TRAEFIK_BIN"

kubectl_admin -n kube-system rollout status deployment/coredns --timeout=180s >/dev/null
kubectl_admin -n kube-system rollout status daemonset/kube-network-policies --timeout=180s >/dev/null
kubectl_admin -n traefik rollout status deployment/traefik --timeout=180s >/dev/null
wait_for "the metrics API" 120 kubectl_admin wait --for=condition=Available --timeout=5s apiservice/v1beta1.metrics.k8s.io
echo "CoreDNS at $DNS_SERVICE_IP, StorageClass standard (local-path-provisioner, directories in $VOLUMES), metrics-server at $NODE_IP:4443, NetworkPolicies by kube-network-policies $(built_version "$KUBE_NETWORK_POLICIES_BIN"), Traefik $(built_version "$TRAEFIK_BIN") (Ingress :30880, Gateway mcp-gateway :30881)"
