#!/usr/bin/env bash
# Host networking for the cluster: sysctls, the node's dummy interface, forwarding rules that let
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

# Our own FORWARD chain, first in FORWARD: pod traffic may not leave the pod network (dockerd also
# sets the FORWARD policy to DROP, so the bridge needs explicit ACCEPTs).
iptables -N KRINGEN-FORWARD 2>/dev/null || true
iptables -F KRINGEN-FORWARD
iptables -A KRINGEN-FORWARD -s "$POD_CIDR" ! -d "$POD_CIDR" -j DROP
iptables -A KRINGEN-FORWARD -i cni0 -j ACCEPT
iptables -A KRINGEN-FORWARD -o cni0 -j ACCEPT
iptables -D FORWARD -j KRINGEN-FORWARD 2>/dev/null || true
iptables -I FORWARD 1 -j KRINGEN-FORWARD
echo "node address $NODE_IP on $NODE_IFACE"
