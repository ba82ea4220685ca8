# PPC, persistent port connection: service VIP:80, rr, -p 120. One client
# sticks to one real server on that port; other clients are still spread.
. /lab/lib/lab.sh
topo_up

# The driver: the only part that changes when lvsh applies the same balancer.
# $1: persistence timeout in seconds, empty for none.
drive() {
    ipvsadm -C &&
        ipvsadm -A -t "$VIP:80" -s rr ${1:+-p "$1"} &&
        ipvsadm -a -t "$VIP:80" -r "$RS1" -g &&
        ipvsadm -a -t "$VIP:80" -r "$RS2" -g
}

step "without persistence, consecutive connections alternate"
run drive ""
expect_alternating "client to VIP:80" "$(ask client $(repeat 6 80))"

step "with -p 120, each client sticks to one real server"
run drive 120
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:80 -s rr -p 120"
one=$(ask client $(repeat 6 80))
expect_same "client to VIP:80" "$one"
two=$(ask client2 $(repeat 6 80))
expect_same "client2 to VIP:80" "$two"
expect_ne "client2's server (rr gave the second template the other one)" "${two%% *}" "${one%% *}"
expect_same "client to VIP:80 again, after client2" "$one $(ask client 80 80)"
expect_none "client to VIP:443: per port, no service there" "$(ask client 443)"
run ipvsadm -L -n -c
