# `ipvsadm -S` is not a full save: the kernel holds thresholds, timeouts and
# the sync daemon, and -S writes none of them.
. /lab/lib/lab.sh
topo_up

run ipvsadm -A -t "$VIP:80" -s rr
run ipvsadm -a -t "$VIP:80" -r "$RS1" -m -w 3 -x 100 -y 50
run ipvsadm --set 100 20 30
run ipvsadm --start-daemon master --mcast-interface br0
kept=$(ipvsadm -L -n --thresholds)
echo "$kept"
expect_eq "the kernel's thresholds" "$(echo "$kept" | awk -v rs="$RS1:80" '$2 == rs { print $3, $4 }')" "100 50"
expect_line "the kernel's timeouts" "$(ipvsadm -L --timeout)" "Timeout (tcp tcpfin udp): 100 20 30"
expect_line "the kernel's sync daemon" "$(ipvsadm -L --daemon)" \
    "master sync daemon (mcast=br0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"
saved=$(ipvsadm -S -n)
echo "$saved"
expect_line "ipvsadm -S -n: the destination without -x/-y" "$saved" "-a -t $VIP:80 -r $RS1:80 -m -w 3"
expect_eq "ipvsadm -S -n: nothing but the service and its destination" "$(echo "$saved" | wc -l)" 2
