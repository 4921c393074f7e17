#!/usr/bin/env bash
# `npm run demo:offline`: seed 000 (the brouter) offline. Replays a client's, the ISP router's and the
# overlay's traffic through examples/brouter.yaml and tells each packet's story: proxy-ARP
# discovering which leg the ISP router is on, the DHCP-free path of a ping through the brouter,
# the mark → table 100 → tailscale0 route with masquerade and the reply translated back, ICMP
# errors, and junk dropped by reason. Needs no root and touches no interface.
# (`npm run demo`, scripts/demo.ts, is the same scenario live in network namespaces, as root.)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/ferry-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT
in=fixtures/replay/brouter/in
npx --no ferry replay -c examples/brouter.yaml \
  eth0="$in/eth0.pcap" eth1="$in/eth1.pcap" tailscale0="$in/tailscale0.pcap" \
  --mac eth0=02:00:00:00:00:e0 --mac eth1=02:00:00:00:00:e1 \
  -o "$out" --trace "$out/trace.jsonl"
echo
npx --no ferry trace "$out/trace.jsonl"
echo "summary.json:"
cat "$out/summary.json"
