#!/bin/sh
# udhcpc event script for seed 000's LAN client: configures the leased address and the default
# route the DHCP server offered (option 3), and appends one line per event to $SEED000_EVENTS:
#   <event> ip=<addr> mask=<prefix len> router=<addr> serverid=<addr> lease=<seconds>
case "$1" in
deconfig) ip -4 addr flush dev "$interface" ;;
bound | renew)
  ip -4 addr flush dev "$interface"
  ip addr add "$ip/$mask" dev "$interface"
  # "router" may list several gateways: the first one becomes the default route.
  [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
  ;;
esac
echo "$1 ip=$ip mask=$mask router=$router serverid=$serverid lease=$lease" >>"${SEED000_EVENTS:-/dev/null}"
