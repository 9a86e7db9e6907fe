#!/usr/bin/env bash
# A cluster CA and every certificate the components need, made once with openssl.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CERTS"

# new_ca NAME CN: a self-signed CA (made once).
new_ca() {
  [[ -f "$1.key" ]] && return 0
  openssl genrsa -out "$1.key" 2048 2>/dev/null
  openssl req -x509 -new -nodes -key "$1.key" -subj "/CN=$2" -days 3650 -out "$1.crt" 2>/dev/null
}
new_ca ca kringen-local-ca
# The aggregation layer's own CA: the API server proves with a front-proxy-client certificate that
# the user it names in its headers (to metrics-server) was authenticated. Kept apart from ca.crt so
# that no ordinary client certificate can pass for it.
new_ca front-proxy-ca kringen-front-proxy-ca
if [[ ! -f sa.key ]]; then
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi

# cert NAME CN ORG [SANS [CA]]: a key and a certificate signed by CA (default ca), for client and
# server usage.
cert() {
  local name="$1" cn="$2" org="$3" sans="${4:-}" ca="${5:-ca}"
  [[ -f "$name.crt" ]] && return 0
  openssl genrsa -out "$name.key" 2048 2>/dev/null
  local subject="/CN=$cn"
  [[ -n "$org" ]] && subject="/O=$org$subject"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days 3650 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver kube-apiserver "" \
  "IP:127.0.0.1,IP:$NODE_IP,IP:$API_SERVICE_IP,DNS:localhost,DNS:$NODE_NAME,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
cert admin kubernetes-admin system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kubelet "system:node:$NODE_NAME" system:nodes "IP:127.0.0.1,IP:$NODE_IP,DNS:$NODE_NAME"
cert kube-proxy system:kube-proxy ""
cert front-proxy-client front-proxy-client "" "" front-proxy-ca
# metrics-server: its serving certificate (the API server checks it against the APIService's
# caBundle, by the Service's name) doubles as its client certificate.
cert metrics-server system:metrics-server "" "DNS:metrics-server.kube-system.svc,IP:$NODE_IP"

# kubeconfig NAME: a kubeconfig for the API server on 127.0.0.1, as the certificate NAME.
kubeconfig() {
  local file="$CLUSTER_DIR/$1.kubeconfig" user="$1"
  [[ "$1" == admin ]] && file="$KUBECONFIG_ADMIN"
  write_if_changed "$file" <<CONF
apiVersion: v1
kind: Config
clusters:
  - name: kringen-local
    cluster:
      certificate-authority: $CERTS/ca.crt
      server: https://127.0.0.1:6443
users:
  - name: $user
    user:
      client-certificate: $CERTS/$user.crt
      client-key: $CERTS/$user.key
contexts:
  - name: kringen-local
    context:
      cluster: kringen-local
      user: $user
current-context: kringen-local
CONF
  chmod 600 "$file"
}
for name in admin controller-manager scheduler kubelet kube-proxy metrics-server; do kubeconfig "$name"; done
echo "certificates and kubeconfigs in $CLUSTER_DIR"
