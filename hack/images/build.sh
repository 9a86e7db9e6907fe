#!/usr/bin/env bash
# Every image the local stack needs, in the local registry (each script skips what is there):
# the sandbox (pause), the Debian+Python base, FerretDB, mongo-express and Keycloak. The server image itself
# is built by the collection's `image` role on the base.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../localcluster/lib.sh"

pause_bin="$KRINGEN_CACHE/bin/pause/pause"
if [[ ! -x "$pause_bin" ]]; then
  mkdir -p "$(dirname "$pause_bin")"
  gcc -Os -static -o "$pause_bin" "$here/pause.c"
fi
bash "$here/scratch-image.sh" "$PAUSE_IMAGE" "$pause_bin"
bash "$here/base.sh"
bash "$here/ferretdb.sh"
bash "$here/mongo-express.sh"
bash "$here/keycloak.sh"
