#!/usr/bin/env bash
# Installs the Debian packages ferry's tests and demo drive as real peers: tshark (the oracle the
# codec tests compare against), tcpdump, dnsmasq, udhcpc, dhclient, wireguard-go/-tools, iperf3.
# Idempotent: does nothing when every tool is already there. `--if-root` makes it a no-op for
# non-root users (their privileged tests skip with a reason instead).
set -euo pipefail
if [ "${1:-}" = "--if-root" ] && [ "$(id -u)" != 0 ]; then exit 0; fi

# tool -> Debian package
declare -A pkgs=(
  [tshark]=tshark [tcpdump]=tcpdump [dnsmasq]=dnsmasq-base [udhcpc]=udhcpc [dhclient]=isc-dhcp-client
  [wireguard-go]=wireguard-go [wg]=wireguard-tools [iperf3]=iperf3 [ip]=iproute2 [ethtool]=ethtool
  [busybox]=busybox [nft]=nftables [ping]=iputils-ping [jq]=jq [curl]=curl
)
missing=()
for tool in "${!pkgs[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] || missing+=("${pkgs[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: missing ${missing[*]}; run as root: sudo $0" >&2
  exit 1
fi
echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" up front so the install never prompts.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
