#!/usr/bin/env bash
# Cluster add-ons: CoreDNS (cluster names only; nothing is forwarded off the machine) and the
# `standard` StorageClass with its host-directory provisioner.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
resolve_binaries
here="$(cd "$(dirname "$0")" && pwd)"

COREDNS_IMAGE="$REGISTRY/kringen/coredns:$(built_version "$COREDNS_BIN")"
bash "$here/../images/scratch-image.sh" "$COREDNS_IMAGE" "$COREDNS_BIN" >/dev/null
sed -e "s|@IMAGE@|$COREDNS_IMAGE|g" -e "s|@DNS_IP@|$DNS_SERVICE_IP|g" -e "s|@DOMAIN@|$CLUSTER_DOMAIN|g" \
  "$here/manifests/coredns.yaml" | kubectl_admin apply -f - >/dev/null
kubectl_admin apply -f "$here/manifests/storage.yaml" >/dev/null

start_daemon provisioner python3 "$here/provisioner.py" "$(k8s_bin kubectl)" "$KUBECONFIG_ADMIN" "$VOLUMES"
kubectl_admin -n kube-system rollout status deployment/coredns --timeout=180s >/dev/null
echo "CoreDNS at $DNS_SERVICE_IP, StorageClass standard (host directories in $VOLUMES)"
