#!/usr/bin/env bash
# Build Rancher's local-path-provisioner (the volume provisioner kind uses): PersistentVolumes on
# node directories, made and removed by helper pods. Its module has no replace directives: `go install`.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
go_install_cached local-path-provisioner "${LOCAL_PATH_PROVISIONER_VERSION:-v0.0.30}" github.com/rancher/local-path-provisioner
