#!/usr/bin/env bash
# Build metrics-server, which serves the resource metrics API (kubectl top, the HPA's CPU and
# memory) from the kubelets' /metrics/resource. Its module has no replace directives: `go install`.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
go_install_cached metrics-server "${METRICS_SERVER_VERSION:-v0.8.0}" sigs.k8s.io/metrics-server/cmd/metrics-server
