#!/usr/bin/env bash
# `make down`: undeploy the stack (keeps the MongoDB volume unless PURGE=true).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/hack/lib/common.sh"
cd "$root"
export KUBECONFIG="${KUBECONFIG:-$KRINGEN_CACHE/cluster/kubeconfig}"
"$root/.venv-ansible/bin/ansible-playbook" -i "${INVENTORY:-inventories/local/hosts.yml}" playbooks/undeploy.yml \
  -e "mcp_purge=${PURGE:-false}"
