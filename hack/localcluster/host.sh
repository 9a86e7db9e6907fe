#!/usr/bin/env bash
# Host networking for the cluster: sysctls, the node address, forwarding rules that let
# pods talk to each other and to the node, and never out of the machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

modprobe br_netfilter 2>/dev/null || true
modprobe overlay 2>/dev/null || true
sysctl -q -w net.ipv4.ip_forward=1
sysctl -q -w net.bridge.bridge-nf-call-iptables=1
sysctl -q -w net.ipv4.conf.all.route_localnet=1   # NodePorts on 127.0.0.1

# The node address lives on the loopback device (this kernel has no dummy links): local to the
# host, reachable from pods through the bridge, never announced anywhere.
if [[ "$(ip -4 addr show dev "$NODE_IFACE")" != *" $NODE_IP/32 "* ]]; then
  ip addr add "$NODE_IP/32" dev "$NODE_IFACE"
fi

# ensure_chain TABLE CHAIN PARENT RULES [first]: CHAIN holds RULES (rewritten only when they differ,
# so re-running never opens a gap) and PARENT jumps to it: appended once (after kube-proxy's and
# dockerd's rules), or with `first` kept as PARENT's first rule.
ensure_chain() {
  local table="$1" chain="$2" parent="$3" wanted="-N $2"$'\n'"$4" first="${5:-}"
  if [[ "$(iptables -t "$table" -S "$chain" 2>/dev/null)" != "$wanted" ]]; then
    iptables -t "$table" -N "$chain" 2>/dev/null || iptables -t "$table" -F "$chain"
    tail -n +2 <<<"$wanted" | while read -r -a rule; do iptables -t "$table" "${rule[@]}"; done
  fi
  if [[ -n "$first" ]]; then
    if [[ "$(iptables -t "$table" -S "$parent" 1 2>/dev/null)" != "-A $parent -j $chain" ]]; then
      iptables -t "$table" -D "$parent" -j "$chain" 2>/dev/null || true
      iptables -t "$table" -I "$parent" 1 -j "$chain"
    fi
  else
    iptables -t "$table" -C "$parent" -j "$chain" 2>/dev/null || iptables -t "$table" -A "$parent" -j "$chain"
  fi
}

# Our own FORWARD chain, first in FORWARD: pods may not open connections out of the pod network
# (replies to connections opened from the host side, e.g. a docker container calling a NodePort,
# pass). dockerd may also set the FORWARD policy to DROP, so the bridge needs explicit ACCEPTs.
ensure_chain filter KRINGEN-FORWARD FORWARD "-A KRINGEN-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KRINGEN-FORWARD -s $POD_CIDR ! -d $POD_CIDR -j DROP
-A KRINGEN-FORWARD -i cni0 -j ACCEPT
-A KRINGEN-FORWARD -o cni0 -j ACCEPT" first

# NetworkPolicies: kube-network-policies (addons.sh) gives a verdict on each packet sent to NFQUEUE
# $NETPOL_QUEUE. Its own nftables rules need the nft `queue` expression, which this kernel lacks
# (CONFIG_NFT_QUEUE is not set), so the packets come from these iptables rules (the xt NFQUEUE target):
# the first packet of every connection from or to a pod, as upstream's rules do. KRINGEN-NETPOL sits
# in mangle POSTROUTING (before SNAT; bridged pod-to-pod packets pass it thanks to br_netfilter) and
# skips what the host opens as root (kubelet probes, the API server's pod proxy, metrics-server,
# NodePort clients on 127.0.0.1). KRINGEN-INPUT catches connections from pods to the node's own
# addresses (the API server, a test's web-search provider on 10.99.0.1), which never reach
# POSTROUTING. --queue-bypass: while nothing reads the queue (kube-network-policies not running),
# packets pass, so the cluster works without policies rather than not at all.
queue="-m conntrack --ctstate NEW -j NFQUEUE --queue-num $NETPOL_QUEUE --queue-bypass"
ensure_chain mangle KRINGEN-NETPOL POSTROUTING "-A KRINGEN-NETPOL -m owner --uid-owner 0 -j RETURN
-A KRINGEN-NETPOL -s $POD_CIDR $queue
-A KRINGEN-NETPOL -d $POD_CIDR $queue"
ensure_chain filter KRINGEN-INPUT INPUT "-A KRINGEN-INPUT -s $POD_CIDR $queue"
echo "node address $NODE_IP on $NODE_IFACE"
