#!/usr/bin/env bash
# dockerd (image builds) and a plain-HTTP registry on 127.0.0.1:5000 that containerd pulls from.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if ! docker info >/dev/null 2>&1; then
  start_daemon dockerd /usr/sbin/dockerd --host=unix:///var/run/docker.sock --storage-driver=overlay2 \
    --insecure-registry "$REGISTRY"
  wait_for "dockerd" 60 docker info
fi

mkdir -p "$CLUSTER_DIR/registry"
write_if_changed "$CLUSTER_DIR/registry.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $CLUSTER_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
CONF
if ! curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then
  start_daemon registry /usr/bin/docker-registry serve "$CLUSTER_DIR/registry.yml"
  wait_for "registry" 30 curl -fsS "http://$REGISTRY/v2/"
fi
echo "dockerd and registry $REGISTRY up"
