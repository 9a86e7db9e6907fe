#!/usr/bin/env bash
# scratch-image.sh IMAGE BINARY [ARGS...]: an image FROM scratch holding one static binary as its
# entrypoint, built and pushed to the local registry unless it is there already.
set -euo pipefail
source "$(dirname "$0")/../localcluster/lib.sh"
image="$1" binary="$2"; shift 2
if registry_has "$image"; then
  echo "$image present"; exit 0
fi
context="$(mktemp -d)"
cp "$binary" "$context/entrypoint"
entry='["/entrypoint"'
for arg in "$@"; do entry+=", \"$arg\""; done
entry+="]"
printf 'FROM scratch\nCOPY entrypoint /entrypoint\nENTRYPOINT %s\n' "$entry" >"$context/Dockerfile"
build_and_push "$image" "$context"
