#!/bin/bash
# A hub name with two addresses, the first of them dead: c1 looks up
# hub.slopn.test (its namespace's own hosts file, which `ip netns exec`
# puts in place of /etc/hosts) and gets 2001:db8::99, where nothing
# answers, before the hub's 192.0.2.1. Its attempt there hears nothing, not
# even an answer to a path probe, so after 3 s it moves on to the next
# address and connects; its status tells which address it uses.
. "$(dirname "$0")/lib.sh"
topo 1
ns_ipv6 c1
ip -n "$(ns c1)" addr add 2001:db8::11/64 dev eth0 nodad
mkdir -p "/etc/netns/$(ns c1)"
printf '2001:db8::99 hub.slopn.test\n192.0.2.1 hub.slopn.test\n' > "/etc/netns/$(ns c1)/hosts"
expect_eq "what c1 finds for hub.slopn.test, in order" \
	"$(nsx c1 getent ahosts hub.slopn.test | awk '$2 == "DGRAM" {print $1}' | tr '\n' ' ')" \
	"2001:db8::99 192.0.2.1 "
start_hub
start c1 client --server hub.slopn.test:4242 --token s3cret
wait_until 5 "c1 trying the dead address first" client_is c1 hub_addr "[2001:db8::99]:4242"
ok "c1 tries [2001:db8::99]:4242 first"
wait_connected c1 10.100.0.2 10
expect_eq "the address c1 connected to" "$(client_status c1 hub_addr)" "192.0.2.1:4242"
wait_ping c1 10.100.0.1 5
ok "traffic through the hub at its second address"
