# PCC, persistent client connection: service VIP:0 (every port), rr, -p. One
# client reaches the same real server whatever the port.
. /lab/lib/lab.sh
topo_up

# The driver: the only part that changes when lvsh applies the same balancer.
drive() {
    ipvsadm -A -t "$VIP:0" -s rr -p &&
        ipvsadm -a -t "$VIP:0" -r "$RS1" -g &&
        ipvsadm -a -t "$VIP:0" -r "$RS2" -g
}

step "before the service, nothing answers on the VIP"
expect_none "client to VIP:80 and :443" "$(ask client 80 443)"

step "port 0 with -p: all ports of the VIP, one real server per client"
run drive
expect_line "ipvsadm -S -n (-p alone is 360 s)" "$(ipvsadm -S -n)" "-A -t $VIP:0 -s rr -p 360"
one=$(ask client $(repeat 4 80 443))
expect_same "client to VIP:80 and :443" "$one"
two=$(ask client2 $(repeat 4 443 80))
expect_same "client2 to VIP:443 and :80" "$two"
expect_ne "client2's server" "${two%% *}" "${one%% *}"
run ipvsadm -L -n -c
