#!/usr/bin/env bash
# Two PEP hosts in network namespaces, connected by an underlay bridge; the real
# vnp agent code plumbs three records and enforces a policy; we show an allowed
# and a denied flow and the source identity in the VXLAN-GBP header.
# Run as root from the repository root:  sudo scripts/demo-two-hosts.sh
# Touches nothing outside namespaces named vnpdemo-*; cleans up on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

P=vnpdemo
UL=$P-ul H1=$P-h1 H2=$P-h2
PCAP=$(mktemp /tmp/vnpdemo-XXXX.pcap)
CLI="npx --no-install tsx test/e2e/support/demo-cli.ts"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
  rm -f "$PCAP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)"; exit 1; }
for t in ip nft tcpdump python3; do command -v $t >/dev/null || { echo "missing: $t"; exit 1; }; done
cleanup

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "underlay: bridge in $UL, hosts h1=192.168.99.1 h2=192.168.99.2"
ip netns add $UL
ip -n $UL link add br0 type bridge && ip -n $UL link set br0 up
i=0
for H in $H1 $H2; do
  i=$((i + 1))
  ip netns add $H
  ip -n $UL link add ul$i type veth peer name uplink netns $H
  ip -n $UL link set ul$i master br0 up
  ip -n $H addr add 192.168.99.$i/24 dev uplink
  ip -n $H link set uplink up
  ip -n $H link set lo up
done

# Identities: web 256 (h1), ops 258 (h1), db 257 (h2). Policy: web and ops may
# send to db on tcp/5432, but db accepts (and logs) only web; everything else
# takes the default: deny. So ops's SYN crosses the underlay and h2 drops it,
# knowing it is ops only from the Group Policy ID in the VXLAN header.
state() { # host revision
  cat <<JSON
{"host":"$1","revision":$2,
 "records":[
  {"name":"web","identity":256,"ips":["10.99.0.1"],"mac":"02:99:00:00:00:01","host":"h1","netns":"$P-i-web"},
  {"name":"ops","identity":258,"ips":["10.99.0.3"],"mac":"02:99:00:00:00:03","host":"h1","netns":"$P-i-ops"},
  {"name":"db","identity":257,"ips":["10.99.0.2"],"mac":"02:99:00:00:00:02","host":"h2","netns":"$P-i-db"}]}
JSON
}
# Turn the record list into a HostState for one host (python keeps the script dependency-free).
hoststate() { # host revision
  state "$1" "$2" | python3 -c '
import json, sys
d = json.load(sys.stdin); host = d["host"]
underlay = {"h1": "192.168.99.1", "h2": "192.168.99.2"}
locals_ = [dict(name=r["name"], identity=r["identity"], ips=r["ips"], mac=r["mac"], subnet="demo", cidr="10.99.0.0/24", vni=99, instance=r["name"], netns=r["netns"]) for r in d["records"] if r["host"] == host]
remotes = [dict(name=r["name"], identity=r["identity"], ips=r["ips"], mac=r["mac"], subnet="demo", vni=99, host=r["host"], underlay=underlay[r["host"]]) for r in d["records"] if r["host"] != host]
ids = {r["identity"] for r in locals_}
def pe(peer, verdict, policy, rule): return dict(peer=peer, proto="tcp", ports=[5432, 5432], verdict=verdict, policy=policy, rule=rule)
sides = [dict(identity=256, direction="egress", cidr=[], peers=[pe(257, "allow", "web-to-db", "egress[0]")], any=[]),
         dict(identity=258, direction="egress", cidr=[], peers=[pe(257, "allow", "ops-out", "egress[0]")], any=[]),
         dict(identity=257, direction="ingress", cidr=[], peers=[pe(256, "log", "db-in", "ingress[0]")], any=[])]
print(json.dumps(dict(host=host, revision=d["revision"], locals=locals_, remotes=remotes,
  ipcache=[dict(ip=r["ips"][0], identity=r["identity"]) for r in d["records"]],
  sides=[s for s in sides if s["identity"] in ids],
  defaults=[dict(identity=i, other="deny", peers=[]) for i in sorted(ids)])))'
}

step "agents apply their HostStates (veths into instance namespaces, vnpvx99 with gbp, nft table inet vnp)"
hoststate h1 1 | $CLI apply $H1 h1 192.168.99.1
hoststate h2 1 | $CLI apply $H2 h2 192.168.99.2

step "db listens on 10.99.0.2:5432"
ip netns exec $P-i-db python3 -m http.server 5432 --bind 10.99.0.2 >/dev/null 2>&1 &
PIDS+=($!)
sleep 1

ip netns exec $UL tcpdump -i br0 -U -w "$PCAP" udp port 4789 2>/dev/null &
PIDS+=($!)
sleep 1

try() { # from-ns label
  if ip netns exec "$1" timeout 1 bash -c 'exec 3<>/dev/tcp/10.99.0.2/5432' 2>/dev/null; then
    printf '  %-28s \033[32mALLOWED\033[0m\n' "$2"
  else
    printf '  %-28s \033[31mDENIED\033[0m\n' "$2"
  fi
}
step "flows"
try $P-i-web "web (h1) -> db (h2) tcp/5432"
try $P-i-ops "ops (h1) -> db (h2) tcp/5432"
sleep 1
kill "${PIDS[1]}" 2>/dev/null || true
sleep 0.5

step "the source identity travels in the VXLAN-GBP header (decoded from the underlay pcap)"
$CLI gbp "$PCAP" | sort | uniq -c | head -10
echo "  (web's packets carry 256, db's replies 257; ops's SYNs carry 258 and h2 drops them at db's ingress)"

step "h2's table, the db ingress chain"
ip netns exec $H2 nft list chain inet vnp in-257
ip netns exec $H2 nft list map inet vnp in-257-p

step "done — cleaning up"
