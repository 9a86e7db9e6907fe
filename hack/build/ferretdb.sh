#!/usr/bin/env bash
# Build FerretDB v1 (SQLite backend), the MongoDB-wire server used by the tests
# and by the local cluster. The module leaves out build/version/version.txt,
# which its build embeds; without it the binary panics at start, so we write it.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
out="$KRINGEN_CACHE/bin/ferretdb-$FERRETDB_VERSION"

if [[ -x "$out/ferretdb" ]]; then
  echo "$out/ferretdb"; exit 0
fi
go_env

build() {
  local src work
  src="$(module_dir "github.com/FerretDB/FerretDB@$FERRETDB_VERSION")"
  work="$(mktemp -d)"
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  printf '%s\n' "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  mkdir -p "$out.tmp"
  (cd "$work" && go build -trimpath -o "$out.tmp/ferretdb" ./cmd/ferretdb)
  rm -rf "$work"
  mv "$out.tmp" "$out"
}
step "build-ferretdb-$FERRETDB_VERSION" build
echo "$out/ferretdb"
