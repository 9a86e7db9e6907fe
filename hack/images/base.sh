#!/usr/bin/env bash
# The Debian base image (bookworm, with Python 3.11 for the server image), made with debootstrap
# and imported into docker: 127.0.0.1:5000/kringen/python:3.11-bookworm. The host's CA bundle is
# copied in, so builds on this base reach the package registries through the same TLS setup as the host.
set -euo pipefail
source "$(dirname "$0")/../localcluster/lib.sh"

IMAGE="$BASE_IMAGE"
if registry_has "$IMAGE"; then
  echo "$IMAGE present"; exit 0
fi
rootfs="$KRINGEN_CACHE/rootfs/bookworm-python"
if [[ ! -x "$rootfs/usr/bin/python3" ]]; then
  rm -rf "$rootfs.tmp" && mkdir -p "$rootfs.tmp"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs.tmp"
  rm -rf "$rootfs" && mv "$rootfs.tmp" "$rootfs"
fi
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' - "$IMAGE"
docker push -q "$IMAGE" >/dev/null
echo "$IMAGE built"
