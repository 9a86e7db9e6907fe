#!/usr/bin/env bash
# Build kube-network-policies (sigs.k8s.io), the NetworkPolicy engine beside the bridge CNI: it
# sends new connections of pods through NFQUEUE (nftables over netlink, no iptables binary) and
# drops what the policies deny. Its module has no replace directives: `go install`.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
go_install_cached kube-network-policies "${KUBE_NETWORK_POLICIES_VERSION:-v0.8.0}" \
  sigs.k8s.io/kube-network-policies/cmd kube-network-policies
