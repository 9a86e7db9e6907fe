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

# Our own FORWARD chain, first in FORWARD: pods may not open connections out of the pod network
# (replies to connections opened from the host side, e.g. a docker container calling a NodePort,
# pass). dockerd may also set the FORWARD policy to DROP, so the bridge needs explicit ACCEPTs.
# The chain is rewritten only when its rules differ, so re-running never opens a gap.
wanted="-N KRINGEN-FORWARD
-A KRINGEN-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KRINGEN-FORWARD -s $POD_CIDR ! -d $POD_CIDR -j DROP
-A KRINGEN-FORWARD -i cni0 -j ACCEPT
-A KRINGEN-FORWARD -o cni0 -j ACCEPT"
if [[ "$(iptables -S KRINGEN-FORWARD 2>/dev/null)" != "$wanted" ]]; then
  iptables -N KRINGEN-FORWARD 2>/dev/null || iptables -F KRINGEN-FORWARD
  tail -n +2 <<<"$wanted" | while read -r -a rule; do iptables "${rule[@]}"; done
fi
if [[ "$(iptables -S FORWARD 1 2>/dev/null)" != "-A FORWARD -j KRINGEN-FORWARD" ]]; then
  iptables -D FORWARD -j KRINGEN-FORWARD 2>/dev/null || true
  iptables -I FORWARD 1 -j KRINGEN-FORWARD
fi
# kube-network-policies (addons.sh) judges connections on the postrouting hook, which connections
# from pods to the node's own addresses never reach (they end in INPUT). KRINGEN-INPUT sends those
# to the same queue, so the policies decide them too (e.g. the server's egress to a web-search
# provider on the node). --queue-bypass: while nothing reads the queue, they pass.
wanted="-N KRINGEN-INPUT
-A KRINGEN-INPUT -s $POD_CIDR -p tcp -m conntrack --ctstate NEW -j NFQUEUE --queue-num $NETPOL_QUEUE --queue-bypass
-A KRINGEN-INPUT -s $POD_CIDR -p udp -m conntrack --ctstate NEW -j NFQUEUE --queue-num $NETPOL_QUEUE --queue-bypass"
if [[ "$(iptables -S KRINGEN-INPUT 2>/dev/null)" != "$wanted" ]]; then
  iptables -N KRINGEN-INPUT 2>/dev/null || iptables -F KRINGEN-INPUT
  tail -n +2 <<<"$wanted" | while read -r -a rule; do iptables "${rule[@]}"; done
fi
iptables -C INPUT -j KRINGEN-INPUT 2>/dev/null || iptables -A INPUT -j KRINGEN-INPUT
echo "node address $NODE_IP on $NODE_IFACE"
