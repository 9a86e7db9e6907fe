#!/usr/bin/env bash
# FerretDB (SQLite backend) as a MongoDB-wire server image, FROM scratch: 127.0.0.1:5000/kringen/ferretdb:<version>.
# Its flags (data directory, listen address) come from the StatefulSet's args.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../localcluster/lib.sh"
resolve_binaries   # already done (and exported) when run from up.sh
bash "$here/scratch-image.sh" "$REGISTRY/kringen/ferretdb:$(built_version "$FERRETDB_BIN")" "$FERRETDB_BIN"
