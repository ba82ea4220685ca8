# LVS-DR without persistence: the topology works, and `rr` sends consecutive
# connections of one client to rs1 and rs2 in turn, on a DR (Route) path.
. /lab/lib/lab.sh
topo_up

# The driver: the only part that changes when lvsh applies the same balancer.
drive() {
    ipvsadm -A -t "$VIP:80" -s rr &&
        ipvsadm -a -t "$VIP:80" -r "$RS1" -g &&
        ipvsadm -a -t "$VIP:80" -r "$RS2" -g
}

step "before any service, nothing answers on the VIP"
expect_none "client to VIP:80" "$(ask client 80)"

step "a service with two DR real servers"
run drive
run ipvsadm -L -n
expect_alternating "client to VIP:80, six connections" "$(ask client $(repeat 6 80))"
expect_alternating "client2 to VIP:80, four connections" "$(ask client2 $(repeat 4 80))"

step "the kernel counted the connections on both real servers"
# The counters lag: the kernel sums its per-CPU counters every 2 s.
conns() { ipvsadm -L -n --stats | awk -v at="$1" '$2 == at { print $3 }'; }
tries=0
until [ "$(conns "$VIP:80")" = 10 ] || [ "$tries" -ge 40 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
run ipvsadm -L -n --stats
expect_eq "connections to the service" "$(conns "$VIP:80")" 10
expect_eq "connections to rs1" "$(conns "$RS1:80")" 5
expect_eq "connections to rs2" "$(conns "$RS2:80")" 5
expect_none "client to VIP:443 (no service there)" "$(ask client 443)"

step "after topo_reset nothing answers on the VIP again"
topo_reset
expect_eq "IPVS after the reset" "$(ipvsadm -S -n)" ""
expect_none "client to VIP:80" "$(ask client 80)"
