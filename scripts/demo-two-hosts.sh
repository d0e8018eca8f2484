#!/usr/bin/env bash
# The product end to end on one machine: `vnp server` in a namespace on an
# underlay bridge, a model applied with `vnp apply -f examples/two-host-demo/`,
# agent tokens, and one `vnp agent` process per host namespace (h1, h2). We show
# an allowed and a denied flow next to `vnp check`'s verdict, the source identity
# in the VXLAN-GBP header, and an IDS event that cuts a flow live.
# Run as root from the repository root:  sudo scripts/demo-two-hosts.sh
# Touches nothing outside namespaces named vnpdemo-*; cleans up on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

P=vnpdemo
UL=$P-ul H1=$P-h1 H2=$P-h2 MG=$P-mgr
URL=http://192.168.99.3:7400
TMP=$(mktemp -d /tmp/vnpdemo-XXXX)
PCAP=$TMP/underlay.pcap
declare -A IP=([web]=10.99.0.1 [db]=10.99.0.2 [ops]=10.99.0.3)
declare -A HOST=([web]=h1 [db]=h2 [ops]=h1)
PIDS=()

cleanup() {
  local rc=$?
  # A failed run shows why: the end of the manager's and the agents' logs.
  if [ "$rc" != 0 ]; then
    for log in "$TMP"/server.log "$TMP"/agent-*.log; do
      [ -s "$log" ] && { echo "--- $(basename "$log") (last 20 lines)"; tail -20 "$log"; }
    done
  fi
  # SIGTERM first (the agents and the manager stop cleanly), SIGKILL what is left.
  { for pid in "${PIDS[@]}"; do kill "$pid" || true; done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      alive=0
      for pid in "${PIDS[@]}"; do kill -0 "$pid" && alive=1; done
      [ $alive = 1 ] || break
      sleep 0.3
    done
    for pid in "${PIDS[@]}"; do kill -9 "$pid" || true; done
    wait || true; } 2>/dev/null
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
  rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)"; exit 1; }
for t in ip nft nsenter tcpdump python3 curl node; do
  command -v $t >/dev/null || { echo "missing: $t"; exit 1; }
done
cleanup
mkdir -p "$TMP"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# `vnp` run inside the manager's namespace (a namespace cannot reach the root
# namespace's loopback), as the admin.
vnp() { ip netns exec $MG env VNP_SERVER=$URL VNP_TOKEN="$ADMIN" node bin/vnp.js "$@"; }
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
connects() { # src dst port: a TCP connect from src's namespace within 0.5 s
  ip netns exec $P-i-$1 timeout 0.5 bash -c "exec 3<>/dev/tcp/${IP[$2]}/$3" 2>/dev/null
}
wait_for() { # seconds description command…: poll until the command succeeds
  local end=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ $SECONDS -lt $end ] || { echo "timed out waiting for $what" >&2; exit 1; }
    sleep 0.2
  done
}

step "underlay: bridge in $UL; h1=192.168.99.1 h2=192.168.99.2 (PEP hosts), mgr=192.168.99.3 (manager)"
ip netns add $UL
ip -n $UL link add br0 type bridge && ip -n $UL link set br0 up
i=0
for H in $H1 $H2 $MG; do
  i=$((i + 1))
  ip netns add $H
  ip -n $UL link add ul$i type veth peer name uplink netns $H
  ip -n $UL link set ul$i master br0 up
  ip -n $H addr add 192.168.99.$i/24 dev uplink
  ip -n $H link set uplink up
  ip -n $H link set lo up
done

step "vnp server in $MG (embedded store in $TMP/data)"
# Plain HTTP on an isolated test underlay: VNP_INSECURE=1 says so (docs/security.md).
ip netns exec $MG env VNP_LISTEN=192.168.99.3:7400 VNP_INSECURE=1 VNP_DATA_DIR="$TMP/data" VNP_LOG_LEVEL=warn \
  node bin/vnp.js server >"$TMP/server.log" 2>&1 &
PIDS+=($!)
wait_for 30 "the manager" ip netns exec $MG curl -sf -m 1 -o /dev/null $URL/readyz
ADMIN=$(cat "$TMP/data/admin.token")
echo "  ready at $URL"

step "vnp apply -f examples/two-host-demo/"
vnp apply -f examples/two-host-demo/ | sed 's/^/  /'

step "agent tokens, one vnp agent per host namespace"
for h in h1 h2; do
  (umask 077 && vnp token create --role agent --host $h >"$TMP/$h.token" 2>/dev/null)
  # nsenter enters the host's network namespace only: the agent creates the
  # instances' namespaces (ip netns add), which must be visible outside it.
  nsenter --net=/run/netns/$P-$h -- node bin/vnp.js agent --server $URL --host $h \
    --token-file "$TMP/$h.token" --underlay-ip 192.168.99.${h#h} 2>"$TMP/agent-$h.log" &
  PIDS+=($!)
done
for h in h1 h2; do
  wait_for 30 "agent $h" grep -q 'vnp agent: enforcing' "$TMP/agent-$h.log"
  sed 's/^/  /' "$TMP/agent-$h.log"
done

ip netns exec $P-i-db python3 -m http.server 5432 --bind ${IP[db]} >/dev/null 2>&1 &
PIDS+=($!)
# Both agents connected: each host learns the other's underlay address.
wait_for 15 "web -> db through the overlay" connects web db 5432

ip netns exec $UL tcpdump -i br0 -U -w "$PCAP" udp port 4789 2>/dev/null &
TCPDUMP=$!
PIDS+=($TCPDUMP)
sleep 0.5

flow() { # src dst port: the kernel's verdict next to vnp check's
  local kernel=DENIED verdict agree=agree
  connects "$1" "$2" "$3" && kernel=ALLOWED
  verdict=$(vnp check "$1" "$2" --proto tcp --port "$3" -o json | json 'd["verdict"]')
  [ "$kernel/$verdict" = ALLOWED/allow ] || [ "$kernel/$verdict" = DENIED/deny ] || agree=DISAGREE
  printf '  %-30s kernel %-7s  vnp check %-5s  %s\n' \
    "$1 (${HOST[$1]}) -> $2 (${HOST[$2]}) tcp/$3" "$kernel" "$verdict" "$agree"
}

step "flows: what the kernels do, and what vnp check says"
flow web db 5432
flow ops db 5432
flow db web 5432
sleep 0.5
kill "$TCPDUMP" 2>/dev/null || true
sleep 0.5

step "why ops -> db is denied (vnp check ops db --proto tcp --port 5432)"
vnp check ops db --proto tcp --port 5432 | sed 's/^/  /'

step "the source identity travels in the VXLAN-GBP header (decoded from the underlay pcap)"
WEB_ID=$(vnp check web db --proto tcp --port 5432 -o json | json 'd["src"]["identity"]')
DB_ID=$(vnp check web db --proto tcp --port 5432 -o json | json 'd["dst"]["identity"]')
OPS_ID=$(vnp check ops db --proto tcp --port 5432 -o json | json 'd["src"]["identity"]')
echo "  identities (vnp check -o json): web=$WEB_ID db=$DB_ID ops=$OPS_ID"
node --import tsx test/e2e/support/demo-cli.ts gbp "$PCAP" | sort | uniq -c | head -10
echo "  (web's packets carry $WEB_ID, db's replies $DB_ID; ops's SYNs carry $OPS_ID and h2 drops them at db's ingress)"

step "h2's table: db's ingress chain"
# Chains are named by a slot, the veth of the identity's first local record
# (docs/adr/0068-local-slots.md): the ingress dispatch map names db's.
DB_IF=$(ip netns exec $H2 nft -j list map inet vnp ifid | json "[e[0] for e in d['nftables'][1]['map']['elem'] if e[1] == $DB_ID][0]")
DB_CHAIN=$(ip netns exec $H2 nft -j list map inet vnp ingress-dispatch | json "[e[1]['jump']['target'] for e in d['nftables'][1]['map']['elem'] if e[0] == '$DB_IF'][0]")
echo "  db (identity $DB_ID) on veth $DB_IF: chain $DB_CHAIN"
ip netns exec $H2 nft list chain inet vnp "$DB_CHAIN" | sed 's/^/  /'

step "an IDS alert quarantines web (vnp event ids.alert --target web), live"
flow web db 5432
T0=$(date +%s%N)
vnp event ids.alert --target web | sed 's/^/  /'
wait_for 10 "the quarantine to reach the kernels" bash -c "! ip netns exec $P-i-web timeout 0.5 bash -c 'exec 3<>/dev/tcp/${IP[db]}/5432' 2>/dev/null"
echo "  web -> db cut $(( ($(date +%s%N) - T0) / 1000000 )) ms after running vnp event"
flow web db 5432
vnp check web db --proto tcp --port 5432 | head -1 | sed 's/^/  /'

step "what the kernels reported: vnp flows (oldest first, with the deciding side and rule)"
# Agents send their flow records in batches; give the last ones a moment to arrive.
cut_reported() { vnp flows --since 5m --verdict deny --from web | grep -q quarantine; }
wait_for 10 "the quarantine's deny in vnp flows" cut_reported
vnp flows --since 5m | sed 's/^/  /'

step "done — cleaning up"
