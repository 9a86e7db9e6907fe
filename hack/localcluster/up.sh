#!/usr/bin/env bash
# `make cluster-up`: a real single-node Kubernetes on this machine, idempotent. Each step prints
# its time; a failed step names its log. The last line printed is the admin kubeconfig's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
start=$SECONDS

step cluster-packages bash "$here/packages.sh"
step cluster-binaries resolve_binaries
resolve_binaries
step cluster-docker bash "$here/docker.sh"
step cluster-host-network bash "$here/host.sh"   # after dockerd, which puts its own FORWARD rules first
step cluster-images bash "$here/../images/build.sh"
step cluster-certificates bash "$here/certs.sh"
step cluster-control-plane bash "$here/control-plane.sh"
step cluster-node bash "$here/node.sh"
step cluster-addons bash "$here/addons.sh"
step cluster-dns wait_for "cluster DNS" 120 python3 "$here/dns_check.py" "$DNS_SERVICE_IP" "kubernetes.default.svc.$CLUSTER_DOMAIN"
log "local cluster up in $((SECONDS - start))s; KUBECONFIG=$KUBECONFIG_ADMIN"
echo "$KUBECONFIG_ADMIN"
