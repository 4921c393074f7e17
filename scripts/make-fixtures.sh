#!/usr/bin/env bash
# Regenerates every capture under fixtures/pcap/: real traffic from real tools (ping, curl,
# python3 http.server, dnsmasq, udhcpc, dhclient, busybox arping, wireguard-go) recorded with
# tcpdump inside throwaway network namespaces, plus crafted edge cases (scripts/fixtures/craft.py).
# fixtures/pcap/README.md says what each file is. Idempotent: every run replaces all captures.
#
#   sudo bash scripts/make-fixtures.sh             # everything (needs root for the namespaces)
#   bash scripts/make-fixtures.sh --crafted-only   # only the crafted files (no root needed)
#
# Safety: every packet stays inside namespaces named fyfx-<pid>-<random>-*, which the EXIT trap
# deletes together with every process this script started, also on failure. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=fixtures/pcap
CRAFTED_ONLY=0
[ "${1:-}" = "--crafted-only" ] && CRAFTED_ONLY=1

WORK=$(mktemp -d /tmp/ferry-fixtures.XXXXXX)
TAG="fyfx-$$-$RANDOM"
NAMESPACES=()
PIDS=()

cleanup() {
  local rc=$? pid ns
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "${NAMESPACES[@]}"; do
    # Anything still running in one of our namespaces was started by this script.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

log() { echo "make-fixtures: $*" >&2; }

# ---------------------------------------------------------------- namespaces and links

# ns_new SHORT: creates namespace $TAG-SHORT with lo up and quiet IPv6 defaults (no router
# solicitations, no DAD delays) so the captures hold the traffic we cause, not background chatter.
ns_new() {
  local ns="$TAG-$1"
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.accept_dad=0 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
}

ns() { echo "$TAG-$1"; }
# in_ns SHORT CMD…: runs CMD in a namespace. Background jobs use `ip netns exec` directly instead,
# so that $! is the tool's own pid (ip execs it) and signals reach the tool, not a subshell.
in_ns() {
  local n
  n=$(ns "$1")
  shift
  ip netns exec "$n" "$@"
}

# veth SHORT_A IF_A MAC_A SHORT_B IF_B MAC_B MTU: a veth pair between two namespaces, offloads off
# so every captured packet carries finished checksums and is no larger than the link MTU.
veth() {
  ip -n "$(ns "$1")" link add name "$2" type veth peer name "$5" netns "$(ns "$4")"
  ip -n "$(ns "$1")" link set "$2" address "$3" mtu "$7"
  ip -n "$(ns "$4")" link set "$5" address "$6" mtu "$7"
  in_ns "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
  in_ns "$4" ethtool -K "$5" tx off tso off gso off gro off >/dev/null 2>&1 || true
}

up() { ip -n "$(ns "$1")" link set "$2" up; }
addr() { ip -n "$(ns "$1")" addr add "$3" dev "$2" ${4:+"$4"}; }
flush_neigh() {
  local s
  for s in "$@"; do ip -n "$(ns "$s")" neigh flush all 2>/dev/null || true; done
}

# wait_for DESCRIPTION TRIES CMD...: retries CMD every 0.1 s, at most TRIES times.
wait_for() {
  local what=$1 tries=$2 i
  shift 2
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "timed out waiting for $what"
  return 1
}

# ---------------------------------------------------------------- capture

# cap_start VAR SHORT IFACE FILE [tcpdump args…]: starts tcpdump, stores its pid in VAR, and
# returns once it is listening. The file lands in $WORK/raw and is published by publish().
cap_start() {
  local var=$1 short=$2 ifc=$3 file=$4
  shift 4
  local logf="$WORK/$file.tcpdump.log"
  mkdir -p "$WORK/raw"
  ip netns exec "$(ns "$short")" tcpdump -Z root -i "$ifc" -U --immediate-mode -s 0 -w "$WORK/raw/$file" "$@" \
    >"$logf" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "$var" '%s' "$pid"
  wait_for "tcpdump on $ifc" 50 grep -q 'listening on' "$logf" || {
    cat "$logf" >&2
    return 1
  }
}

# cap_stop PID: lets late replies arrive, then stops tcpdump (SIGTERM: background jobs of a
# non-interactive shell ignore SIGINT), which flushes and closes the file; SIGKILL after 5 s.
cap_stop() {
  sleep 0.5
  kill -TERM "$1" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# publish RAW_NAME FINAL_NAME: copies a capture into $WORK/out, converting to pcapng when the
# final name says so (editcap keeps the time-stamp precision of the source).
publish() {
  mkdir -p "$WORK/out"
  case "$2" in
  *.pcapng) editcap -F pcapng "$WORK/raw/$1" "$WORK/out/$2" ;;
  *) cp "$WORK/raw/$1" "$WORK/out/$2" ;;
  esac
  local n
  n=$(tshark -r "$WORK/out/$2" 2>/dev/null | wc -l)
  [ "$n" -gt 0 ] || {
    log "$2 is empty"
    return 1
  }
  log "$2: $n packets"
}

NANO=(--time-stamp-precision=nano)

# ---------------------------------------------------------------- scenarios

# A --- R --- B: A and B hosts, R a router (forwarding on). net1 has MTU 1500, net2 MTU 1280, so
# R fragments IPv4, sends ICMP "fragmentation needed" / ICMPv6 "packet too big", and so on.
routed_topology() {
  ns_new a
  ns_new r
  ns_new b
  in_ns r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  veth a eth0 02:00:00:00:01:0a r eth0 02:00:00:00:01:01 1500
  veth r eth1 02:00:00:00:02:01 b eth0 02:00:00:00:02:0b 1280
  addr a eth0 10.0.1.10/24
  addr a eth0 2001:db8:1::10/64 nodad
  addr r eth0 10.0.1.1/24
  addr r eth0 2001:db8:1::1/64 nodad
  addr r eth1 10.0.2.1/24
  addr r eth1 2001:db8:2::1/64 nodad
  addr b eth0 10.0.2.2/24
  addr b eth0 2001:db8:2::2/64 nodad
  up a eth0
  up r eth0
  up r eth1
  up b eth0
  ip -n "$(ns a)" route add default via 10.0.1.1
  ip -n "$(ns a)" -6 route add default via 2001:db8:1::1
  ip -n "$(ns b)" route add default via 10.0.2.1
  ip -n "$(ns b)" -6 route add default via 2001:db8:2::1
  wait_for "A reaches B over IPv4" 50 in_ns a ping -c1 -W1 10.0.2.2
  wait_for "A reaches B over IPv6" 50 in_ns a ping -6 -c1 -W1 2001:db8:2::2
  sleep 1 # let link-up MLD reports die down before the first capture
}

arp_capture() {
  flush_neigh a r
  local c
  cap_start c a eth0 arp.pcap arp
  in_ns a timeout 10 busybox arping -c 2 -w 3 -I eth0 10.0.1.1 >/dev/null
  in_ns a timeout 10 busybox arping -U -c 1 -w 2 -I eth0 10.0.1.10 >/dev/null || true
  in_ns a timeout 10 busybox arping -A -c 1 -w 2 -I eth0 10.0.1.10 >/dev/null || true
  cap_stop "$c"
  publish arp.pcap arp.pcap
}

icmpv4_echo_capture() {
  flush_neigh a r
  local c
  cap_start c a eth0 icmpv4-echo.pcap
  in_ns a timeout 10 ping -c 3 -i 0.2 -W 2 10.0.2.2 >/dev/null
  cap_stop "$c"
  publish icmpv4-echo.pcap icmpv4-echo-routed.pcap
}

icmpv4_errors_capture() {
  local c
  cap_start c a eth0 icmpv4-errors.pcap "${NANO[@]}"
  # Time exceeded (type 11) from R.
  in_ns a timeout 5 ping -c 1 -t 1 -W 1 10.0.2.2 >/dev/null || true
  # Port unreachable (type 3 code 3) from B, quoting our UDP datagram.
  in_ns a timeout 5 bash -c 'echo ferry-fixture >/dev/udp/10.0.2.2/33434' || true
  sleep 0.2
  # Fragmentation needed (type 3 code 4, next-hop MTU 1280) from R.
  in_ns a timeout 5 ping -c 2 -i 0.3 -M do -s 1400 -W 1 10.0.2.2 >/dev/null 2>&1 || true
  # Net unreachable (type 3 code 0): R has no route to 10.77.0.0/16.
  in_ns a timeout 5 ping -c 1 -W 1 10.77.0.1 >/dev/null 2>&1 || true
  # Host unreachable (type 3 code 1): R's ARP for 10.0.2.99 times out after ~3 s.
  in_ns a timeout 8 ping -c 1 -W 5 10.0.2.99 >/dev/null 2>&1 || true
  cap_stop "$c"
  publish icmpv4-errors.pcap icmpv4-errors.pcapng
  ip -n "$(ns a)" route flush cache 2>/dev/null || true
}

ipv4_fragments_capture() {
  local ca cb
  cap_start ca a eth0 ipv4-frag-a.pcap "${NANO[@]}"
  cap_start cb b eth0 ipv4-frag-b.pcap
  # 4028-byte datagrams: A fragments them for MTU 1500, R fragments the fragments again for 1280,
  # B fragments its replies for 1280.
  in_ns a timeout 10 ping -c 2 -i 0.3 -M dont -s 4000 -W 2 10.0.2.2 >/dev/null
  # 1428-byte datagrams with DF clear: only R fragments them.
  in_ns a timeout 10 ping -c 1 -M dont -s 1400 -W 2 10.0.2.2 >/dev/null
  cap_stop "$ca"
  cap_stop "$cb"
  publish ipv4-frag-a.pcap ipv4-fragments.pcap
  publish ipv4-frag-b.pcap ipv4-fragments-router.pcap
}

ipv6_echo_ndp_capture() {
  flush_neigh a r
  local c
  cap_start c a eth0 ipv6-echo.pcap "${NANO[@]}"
  in_ns a timeout 10 ping -6 -c 3 -i 0.2 -W 2 2001:db8:2::2 >/dev/null
  in_ns a timeout 10 ping -6 -c 1 -W 2 -I eth0 fe80::ff:fe00:101 >/dev/null 2>&1 || true
  cap_stop "$c"
  publish ipv6-echo.pcap ipv6-echo-ndp.pcapng
}

ipv6_fragments_capture() {
  local c
  ip -n "$(ns a)" -6 route flush cache 2>/dev/null || true
  cap_start c a eth0 ipv6-frag.pcap
  # 3048-byte datagrams: A fragments for 1500, R answers "packet too big" (MTU 1280 on net2),
  # A fragments again for 1280; B fragments its replies for 1280.
  in_ns a timeout 10 ping -6 -c 3 -i 0.3 -s 3000 -W 2 2001:db8:2::2 >/dev/null || true
  cap_stop "$c"
  publish ipv6-frag.pcap ipv6-fragments.pcap
}

icmpv6_errors_capture() {
  local c
  ip -n "$(ns a)" -6 route flush cache 2>/dev/null || true
  cap_start c a eth0 icmpv6-errors.pcap "${NANO[@]}"
  in_ns a timeout 5 ping -6 -c 1 -t 1 -W 1 2001:db8:2::2 >/dev/null || true
  in_ns a timeout 5 bash -c 'echo ferry-fixture >/dev/udp/2001:db8:2::2/33434' || true
  sleep 0.2
  in_ns a timeout 5 ping -6 -c 2 -i 0.3 -M do -s 1400 -W 1 2001:db8:2::2 >/dev/null 2>&1 || true
  in_ns a timeout 5 ping -6 -c 1 -W 1 2001:db8:77::1 >/dev/null 2>&1 || true
  in_ns a timeout 8 ping -6 -c 1 -W 5 2001:db8:2::99 >/dev/null 2>&1 || true
  cap_stop "$c"
  publish icmpv6-errors.pcap icmpv6-errors.pcapng
}

tcp_http_captures() {
  mkdir -p "$WORK/www"
  # 3000 bytes: several segments at B's MSS of 1240 (MTU 1280 on net2).
  python3 -c 'import sys; sys.stdout.write(("ferry fixture " * 215)[:3000])' >"$WORK/www/hello.txt"
  ip netns exec "$(ns b)" python3 -m http.server 8000 --bind :: --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
  PIDS+=("$!")
  wait_for "http.server" 100 in_ns a curl -sf -o /dev/null --max-time 1 http://10.0.2.2:8000/hello.txt
  local c
  cap_start c a eth0 tcp4.pcap "${NANO[@]}"
  in_ns a curl -sf -o /dev/null --max-time 5 http://10.0.2.2:8000/hello.txt
  # A closed port: SYN answered by RST/ACK.
  in_ns a curl -s -o /dev/null --max-time 2 http://10.0.2.2:8001/ || true
  cap_stop "$c"
  publish tcp4.pcap tcp-http-ipv4.pcap
  cap_start c a eth0 tcp6.pcap
  in_ns a curl -sf -o /dev/null --max-time 5 'http://[2001:db8:2::2]:8000/hello.txt'
  cap_stop "$c"
  publish tcp6.pcap tcp-http-ipv6.pcapng
}

# S (dnsmasq: DHCPv4 server and IPv6 router advertisements) --- C (clients).
dhcp_topology() {
  ns_new s
  ns_new c
  veth s eth0 02:00:00:00:05:01 c eth0 02:00:00:00:05:0c 1500
  addr s eth0 10.0.5.1/24
  addr s eth0 2001:db8:5::1/64 nodad
  up s eth0
  ip netns exec "$(ns s)" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
    --interface=eth0 --bind-interfaces --pid-file="$WORK/dnsmasq.pid" \
    --dhcp-leasefile="$WORK/dnsmasq.leases" --dhcp-authoritative --log-facility=- \
    --dhcp-range=10.0.5.100,10.0.5.150,255.255.255.0,1h \
    --dhcp-option=option:router,10.0.5.1 \
    --dhcp-option=option:domain-name,fixture.test \
    --dhcp-option=option:classless-static-route,10.9.0.0/16,10.0.5.1,192.168.77.0/24,10.0.5.2 \
    --enable-ra --dhcp-range=2001:db8:5::,ra-only,64,1h --ra-param=eth0,mtu:1400,10,600 \
    >"$WORK/dnsmasq.log" 2>&1 &
  PIDS+=("$!")
  wait_for "dnsmasq" 50 grep -q "started" "$WORK/dnsmasq.log" || {
    cat "$WORK/dnsmasq.log" >&2
    return 1
  }
}

# The client's link comes up while the capture runs on the server side: we see its MLD reports,
# DAD and router solicitations, dnsmasq's router advertisement, SLAAC's DAD, then neighbor
# resolution for a ping to the router's global address.
ndp_ra_capture() {
  local c
  cap_start c s eth0 ndp.pcap "${NANO[@]}" ip6
  in_ns c sysctl -qw net.ipv6.conf.eth0.accept_ra=2 net.ipv6.conf.eth0.router_solicitations=3 \
    net.ipv6.conf.eth0.accept_dad=1 net.ipv6.conf.eth0.router_solicitation_interval=1
  up c eth0
  wait_for "SLAAC address" 80 bash -c "ip -n $(ns c) -6 addr show dev eth0 scope global | grep -q 2001:db8:5:"
  sleep 1.5 # the SLAAC address leaves its tentative state
  in_ns c timeout 5 ping -6 -c 2 -i 0.2 -W 2 2001:db8:5::1 >/dev/null || true
  cap_stop "$c"
  publish ndp.pcap ndp-ra-slaac.pcapng
}

dhcp_udhcpc_capture() {
  local c pid
  export FIXTURE_EVENTS="$WORK/udhcpc.events"
  : >"$FIXTURE_EVENTS"
  cap_start c s eth0 udhcpc.pcap udp port 67 or udp port 68 or arp
  # -a: probe the offered address with ARP; -R: release it on exit; -O: ask for more options.
  ip netns exec "$(ns c)" udhcpc -f -R -a -t 4 -T 2 -A 1 -i eth0 -s "$PWD/scripts/fixtures/udhcpc-script.sh" \
    -O staticroutes -O domain -x hostname:ferry-fixture -V ferry-fixtures >"$WORK/udhcpc.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_for "udhcpc lease" 150 grep -q bound "$FIXTURE_EVENTS"
  kill -USR1 "$pid" # renew: a unicast DHCPREQUEST/ACK from the bound address
  sleep 0.5
  kill -TERM "$pid" # -R: DHCPRELEASE on the way out
  wait "$pid" 2>/dev/null || true
  cap_stop "$c"
  publish udhcpc.pcap dhcp-udhcpc.pcap
}

dhcp_dhclient_capture() {
  cat >"$WORK/dhclient.conf" <<'EOF'
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name "ferry-dhclient";
request subnet-mask, broadcast-address, routers, domain-name, rfc3442-classless-static-routes;
EOF
  local c
  cap_start c s eth0 dhclient.pcap udp port 67 or udp port 68
  local args=(-cf "$WORK/dhclient.conf" -lf "$WORK/dhclient.leases" -pf "$WORK/dhclient.pid"
    -sf "$PWD/scripts/fixtures/dhclient-script.sh" eth0)
  # Without -d dhclient backgrounds itself once bound; -r then stops it and sends DHCPRELEASE.
  in_ns c timeout 20 dhclient -1 "${args[@]}" >/dev/null 2>&1
  [ -s "$WORK/dhclient.pid" ] && PIDS+=("$(cat "$WORK/dhclient.pid")")
  in_ns c timeout 10 dhclient -r "${args[@]}" >/dev/null 2>&1 || true
  cap_stop "$c"
  publish dhclient.pcap dhcp-dhclient.pcapng
}

# W1 === W2: a WireGuard tunnel (wireguard-go, a TUN device) over a veth pair. Captures on the
# tunnel interface are raw IP (link type 101); the one on the veth shows WireGuard's UDP.
wireguard_captures() {
  ns_new w1
  ns_new w2
  veth w1 eth0 02:00:00:00:09:01 w2 eth0 02:00:00:00:09:02 1500
  addr w1 eth0 10.0.9.1/24
  addr w2 eth0 10.0.9.2/24
  up w1 eth0
  up w2 eth0
  local if1="fywg$$a" if2="fywg$$b" # the UAPI socket in /var/run/wireguard is named after the interface
  ip netns exec "$(ns w1)" env WG_PROCESS_FOREGROUND=1 wireguard-go "$if1" >"$WORK/wg1.log" 2>&1 &
  PIDS+=("$!")
  ip netns exec "$(ns w2)" env WG_PROCESS_FOREGROUND=1 wireguard-go "$if2" >"$WORK/wg2.log" 2>&1 &
  PIDS+=("$!")
  wait_for "wireguard-go 1" 50 ip -n "$(ns w1)" link show "$if1"
  wait_for "wireguard-go 2" 50 ip -n "$(ns w2)" link show "$if2"
  (
    umask 077
    wg genkey >"$WORK/wg1.key"
    wg genkey >"$WORK/wg2.key"
  )
  local pub1 pub2
  pub1=$(wg pubkey <"$WORK/wg1.key")
  pub2=$(wg pubkey <"$WORK/wg2.key")
  in_ns w1 wg set "$if1" private-key "$WORK/wg1.key" listen-port 51820 \
    peer "$pub2" endpoint 10.0.9.2:51820 allowed-ips 10.99.0.2/32,fd99::2/128
  in_ns w2 wg set "$if2" private-key "$WORK/wg2.key" listen-port 51820 \
    peer "$pub1" endpoint 10.0.9.1:51820 allowed-ips 10.99.0.1/32,fd99::1/128
  addr w1 "$if1" 10.99.0.1/24
  addr w1 "$if1" fd99::1/64 nodad
  addr w2 "$if2" 10.99.0.2/24
  addr w2 "$if2" fd99::2/64 nodad
  up w1 "$if1"
  up w2 "$if2"
  local ct cu
  cap_start ct w1 "$if1" wg-inner.pcap
  cap_start cu w1 eth0 wg-outer.pcap udp port 51820
  in_ns w1 timeout 10 ping -c 2 -i 0.3 -W 3 10.99.0.2 >/dev/null
  in_ns w1 timeout 10 ping -6 -c 2 -i 0.3 -W 3 fd99::2 >/dev/null
  in_ns w1 timeout 5 bash -c 'echo ferry-fixture >/dev/udp/10.99.0.2/33434' || true
  cap_stop "$ct"
  cap_stop "$cu"
  publish wg-inner.pcap rawip-wireguard-tunnel.pcap
  publish wg-outer.pcap wireguard-udp.pcap
}

# ---------------------------------------------------------------- main

mkdir -p "$WORK/out"
if [ "$CRAFTED_ONLY" = 0 ]; then
  [ "$(id -u)" = 0 ] || {
    log "needs root for network namespaces (or pass --crafted-only)"
    exit 1
  }
  for tool in tcpdump editcap tshark ping curl python3 dnsmasq udhcpc dhclient busybox wireguard-go wg ethtool; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
      log "missing $tool (scripts/install-system-deps.sh installs it)"
      exit 1
    }
  done
  export PATH="$PATH:/usr/sbin:/sbin"
  routed_topology
  arp_capture
  icmpv4_echo_capture
  icmpv4_errors_capture
  ipv4_fragments_capture
  ipv6_echo_ndp_capture
  ipv6_fragments_capture
  icmpv6_errors_capture
  tcp_http_captures
  dhcp_topology
  ndp_ra_capture
  dhcp_udhcpc_capture
  dhcp_dhclient_capture
  wireguard_captures
fi
python3 scripts/fixtures/craft.py "$WORK/out"

mkdir -p "$OUT"
if [ "$CRAFTED_ONLY" = 0 ]; then
  rm -f "$OUT"/*.pcap "$OUT"/*.pcapng
else
  rm -f "$OUT"/crafted-*
fi
cp "$WORK"/out/* "$OUT"/
log "wrote $(find "$WORK/out" -type f | wc -l) captures to $OUT"
