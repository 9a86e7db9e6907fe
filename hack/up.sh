#!/usr/bin/env bash
# `make up`: deploy the whole stack. With a reachable cluster in KUBECONFIG (and INVENTORY naming
# it; IMAGE_REPOSITORY a registry that cluster pulls from), deploy there; with none, bring up the
# local cluster first. Then verify, and print where the MCP endpoint is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/hack/lib/common.sh"
cd "$root"
ansible_bin="$root/.venv-ansible/bin"
inventory="${INVENTORY:-inventories/local/hosts.yml}"
extra=()
[[ -n "${IMAGE_REPOSITORY:-}" ]] && extra+=(-e "image_repository=$IMAGE_REPOSITORY")

kubectl="$(bash hack/build/kubernetes.sh | tail -1)/kubectl"
if [[ -n "${KUBECONFIG:-}" ]] && "$kubectl" --request-timeout=5s get --raw /readyz >/dev/null 2>&1; then
  log "deploying to the cluster in KUBECONFIG=$KUBECONFIG with $inventory"
else
  [[ -n "${KUBECONFIG:-}" ]] && log "KUBECONFIG=$KUBECONFIG does not answer; using the local cluster"
  KUBECONFIG="$(bash hack/localcluster/up.sh | tail -1)"
  export KUBECONFIG
fi
step deploy "$ansible_bin/ansible-playbook" -i "$inventory" playbooks/deploy.yml "${extra[@]}"
step verify "$ansible_bin/ansible-playbook" -i "$inventory" playbooks/verify.yml
node="${MCP_NODE_ADDRESS:-127.0.0.1:30800}"
cat <<TEXT

The MCP server is up (KUBECONFIG=$KUBECONFIG):
  WebSocket:        ws://$node/mcp        (subprotocol "mcp")
  Streamable HTTP:  http://$node/mcp
  Health:           http://$node/health   Ready: http://$node/ready
  Metrics (port 9090, never published): $kubectl get --raw /api/v1/namespaces/mcp-server/pods/POD:9090/proxy/metrics
Its bearer token:
  TOKEN=\$($kubectl -n mcp-server get secret mcp-server-auth -o jsonpath='{.data.tokens}' | base64 -d | head -1)
Call it, for example:
  curl -s http://$node/mcp -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
    -H 'Accept: application/json, text/event-stream' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
Undeploy with: make down   (the MongoDB volume stays; make down PURGE=true removes it too)
TEXT
