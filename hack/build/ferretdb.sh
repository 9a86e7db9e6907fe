#!/usr/bin/env bash
# Build FerretDB v1 (SQLite backend), the MongoDB-wire server used by the tests
# and by the local cluster. The module leaves out build/version/version.txt,
# which its build embeds; without it the binary panics at start, so we write it.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
write_version() { printf '%s\n' "$FERRETDB_VERSION" >build/version/version.txt; }
go_build_module ferretdb "$FERRETDB_VERSION" github.com/FerretDB/FerretDB ./cmd/ferretdb write_version
