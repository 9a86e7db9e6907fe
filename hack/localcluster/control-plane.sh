#!/usr/bin/env bash
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler as host processes
# (order and flags after Kubernetes' hack/local-up-cluster.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
resolve_binaries

start_daemon etcd "$ETCD_BIN/etcd" --name kringen --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster kringen=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
  --quota-backend-bytes 2147483648 --log-level warn
wait_for "etcd" 60 curl -fsS http://127.0.0.1:2381/health

start_daemon kube-apiserver "$(k8s_bin kube-apiserver)" \
  --etcd-servers http://127.0.0.1:2379 \
  --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "$NODE_IP" \
  --service-cluster-ip-range "$SERVICE_CIDR" --service-node-port-range 30000-32767 \
  --client-ca-file "$CERTS/ca.crt" \
  --tls-cert-file "$CERTS/apiserver.crt" --tls-private-key-file "$CERTS/apiserver.key" \
  --kubelet-client-certificate "$CERTS/apiserver-kubelet-client.crt" \
  --kubelet-client-key "$CERTS/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$CERTS/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-key-file "$CERTS/sa.pub" --service-account-signing-key-file "$CERTS/sa.key" \
  --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
  --authorization-mode Node,RBAC --allow-privileged=true \
  --enable-admission-plugins NodeRestriction \
  --requestheader-client-ca-file "$CERTS/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$CERTS/front-proxy-client.crt" --proxy-client-key-file "$CERTS/front-proxy-client.key" \
  --enable-aggregator-routing=true \
  --profiling=false --v=1
wait_for "kube-apiserver" 120 kubectl_admin get --raw /readyz

start_daemon kube-controller-manager "$(k8s_bin kube-controller-manager)" \
  --kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
  --service-account-private-key-file "$CERTS/sa.key" --root-ca-file "$CERTS/ca.crt" \
  --cluster-signing-cert-file "$CERTS/ca.crt" --cluster-signing-key-file "$CERTS/ca.key" \
  --use-service-account-credentials --allocate-node-cidrs=true --cluster-cidr "$POD_CIDR" \
  --node-cidr-mask-size 24 --service-cluster-ip-range "$SERVICE_CIDR" \
  --horizontal-pod-autoscaler-sync-period 5s \
  --leader-elect=false --bind-address 127.0.0.1 --v=1

start_daemon kube-scheduler "$(k8s_bin kube-scheduler)" \
  --kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
  --authentication-kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
  --authorization-kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
  --leader-elect=false --bind-address 127.0.0.1 --v=1
echo "control plane up: https://127.0.0.1:6443"
