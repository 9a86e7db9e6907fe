#!/usr/bin/env bash
# The Gateway API CRDs (standard channel) from the sigs.k8s.io/gateway-api module, at the version
# the local cluster's Traefik is built against (its go.mod), so the controller and the served API
# agree. Prints the directory of the CRD YAML.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
go_env
dir="$(module_dir "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION:-v1.4.0}")/config/crd/standard"
[[ -d "$dir" ]] || die "no standard-channel CRDs in the gateway-api module ($dir)"
echo "$dir"
