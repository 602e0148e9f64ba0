# shellcheck shell=bash
# The pod network on the host: the CNI bridge ripple0 (pods $CLUSTER_NODE_POD_CIDR), the
# kernel settings it needs, and the iptables rules that keep pods on this machine.

# Everything added to iptables here hangs off chains with these names.
fw_chain=RIPPLE-FORWARD egress_chain=RIPPLE-EGRESS out_chain=RIPPLE-OUTPUT

# The CNI config containerd's CRI reads: one bridge, host-local addresses, masquerade out.
network_configure() {
  mkdir -p "$etc/cni"
  put "$etc/cni/10-ripple.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "ripple-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "ripple0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$data/cni-ipam",
        "ranges": [[{"subnet": "$CLUSTER_NODE_POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
}

network_setup() {
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  # Docker's FORWARD policy is DROP: accept pod traffic at the END of FORWARD, so
  # kube-router's and kube-proxy's chains (inserted first) still decide before us.
  iptables -w -N "$fw_chain" 2>/dev/null || true
  iptables -w -F "$fw_chain"
  iptables -w -A "$fw_chain" -s "$CLUSTER_POD_CIDR" -j ACCEPT
  iptables -w -A "$fw_chain" -d "$CLUSTER_POD_CIDR" -j ACCEPT
  iptables -w -C FORWARD -j "$fw_chain" 2>/dev/null || iptables -w -A FORWARD -j "$fw_chain"
  # Pods may talk to pods, services and this host, and ask the host's DNS servers (CoreDNS
  # forwards there), nothing beyond this machine: drop the rest before it leaves. In mangle
  # FORWARD, which runs after DNAT and before every filter chain that could ACCEPT it.
  iptables -w -t mangle -N "$egress_chain" 2>/dev/null || true
  iptables -w -t mangle -F "$egress_chain"
  local ns
  while read -r ns; do
    iptables -w -t mangle -A "$egress_chain" -d "$ns" -p udp --dport 53 -j RETURN
    iptables -w -t mangle -A "$egress_chain" -d "$ns" -p tcp --dport 53 -j RETURN
  done < <(awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ {print $2}' /etc/resolv.conf)
  iptables -w -t mangle -A "$egress_chain" -m comment --comment "ripple: pods stay on this machine" -j DROP
  iptables -w -t mangle -C FORWARD -i ripple0 ! -o ripple0 -j "$egress_chain" 2>/dev/null ||
    iptables -w -t mangle -A FORWARD -i ripple0 ! -o ripple0 -j "$egress_chain"
  # A ClusterIP kube-proxy has not programmed yet must not leave by the default route.
  iptables -w -N "$out_chain" 2>/dev/null || true
  iptables -w -F "$out_chain"
  iptables -w -A "$out_chain" -d "$CLUSTER_SERVICE_CIDR" -j REJECT
  iptables -w -C OUTPUT -j "$out_chain" 2>/dev/null || iptables -w -A OUTPUT -j "$out_chain"
}

# remove_chains NAME-REGEX TABLE...: delete every rule of a built-in chain that jumps to a
# chain whose name starts with NAME-REGEX (an ERE alternation of prefixes), then flush
# all those chains (they jump to each other) and delete them.
remove_chains() {
  local re=$1 table chain rule
  shift
  for table in "$@"; do
    { iptables-save -t "$table" 2>/dev/null | grep -E "^-A [A-Z]+ .*-j ($re)" || true; } |
      while read -r rule; do
        # The rule as iptables-save prints it, quotes and all: eval splits it as a shell would.
        eval "iptables -w -t $table -D ${rule#-A }" 2>/dev/null || true
      done
    for chain in $(iptables-save -t "$table" 2>/dev/null | sed -En "s/^:(($re)[^ ]*) .*/\1/p"); do
      iptables -w -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables-save -t "$table" 2>/dev/null | sed -En "s/^:(($re)[^ ]*) .*/\1/p"); do
      iptables -w -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

remove_ipsets() {  # remove_ipsets NAME-REGEX: destroy every ipset whose name matches
  local set
  for set in $(ipset list -n 2>/dev/null | grep -E "$1" || true); do
    ipset destroy "$set" 2>/dev/null || true
  done
}

# After every process is stopped: the chains of kube-proxy, kube-router, the CNI plugins
# and ours, their ipsets, the bridge and the CNI plugins' records of it.
network_teardown() {
  remove_chains 'KUBE-|CNI-|RIPPLE-' filter nat mangle raw
  remove_ipsets '^(KUBE-|kube-router-|inet6:KUBE-)'
  ip link show ripple0 >/dev/null 2>&1 && ip link delete ripple0
  rm -f /var/lib/cni/results/ripple-pods-* 2>/dev/null || true
}
