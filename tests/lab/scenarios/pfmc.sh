# PFMC, persistent firewall mark connection: nft marks VIP tcp {80, 443} with
# mark 10; IPVS balances mark 10 (rr, -p 1200). HTTP and HTTPS of one client
# stick to one real server.
. /lab/lib/lab.sh
topo_up

# The driver: the only part that changes when lvsh applies the same balancer.
# $1: persistence timeout in seconds, empty for none.
drive() {
    ipvsadm -C && nft flush ruleset &&
        nft -f - <<NFT &&
table inet pfmc {
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        ip daddr $VIP tcp dport { 80, 443 } counter meta mark set 10
    }
}
NFT
        ipvsadm -A -f 10 -s rr ${1:+-p "$1"} &&
        ipvsadm -a -f 10 -r "$RS1" -g &&
        ipvsadm -a -f 10 -r "$RS2" -g
}

step "without persistence, marked connections alternate whatever the port"
run drive ""
expect_alternating "client to VIP:80, :443 in turn" "$(ask client $(repeat 3 80 443))"

step "with -p 1200, one client keeps one real server across 80 and 443"
run drive 1200
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200"
one=$(ask client $(repeat 4 80 443))
expect_same "client to VIP:80 and :443" "$one"
two=$(ask client2 $(repeat 4 443 80))
expect_same "client2 to VIP:443 and :80" "$two"
expect_ne "client2's server" "${two%% *}" "${one%% *}"

step "it was nft that marked the traffic"
rules=$(nft list table inet pfmc)
echo "$rules"
expect_no_line "the rule's counter" "$rules" "counter packets 0 "
run ipvsadm -L -n -c
