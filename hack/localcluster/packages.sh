#!/usr/bin/env bash
# Debian packages the local cluster needs; installs only what is missing.
set -euo pipefail
PACKAGES=(docker.io containerd runc containernetworking-plugins docker-registry debootstrap iptables nftables conntrack
          openssl iproute2 kmod ca-certificates gcc libc6-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "all packages present"
fi
