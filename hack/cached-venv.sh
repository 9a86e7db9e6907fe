#!/usr/bin/env bash
# cached-venv.sh LINK REQUIREMENTS [PYTHON]: make LINK (a checkout's .venv-ansible, .venv-sdk2) a
# symlink to a virtualenv with REQUIREMENTS installed, kept in $KRINGEN_CACHE/venvs under the hash
# of REQUIREMENTS and the Python version, so a fresh clone installs nothing that is cached already.
# (A virtualenv cannot be moved, so it is built in place; a failed build leaves no .installed.)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
link="$1" requirements="$2" python="${3:-python3}"
key="$( (cat "$requirements"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
venv="$KRINGEN_CACHE/venvs/$(basename "$link" | sed 's/^\.//')-$key"
if [[ ! -f "$venv/.installed" ]]; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$requirements"
fi
touch "$venv/.installed"   # newer than this clone's REQUIREMENTS, so make asks no more
[[ -L "$link" || ! -e "$link" ]] || rm -rf "$link"   # a virtualenv made here before this cache
ln -sfn "$venv" "$link"
