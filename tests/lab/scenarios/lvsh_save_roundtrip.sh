# `lvsh save` writes a script that brings back everything ipvsadm -S loses:
# thresholds, tunnels (ipip, gue with port and csum, gre), timeouts, the sync
# daemons (master and backup), fwmark services with their nft marks and
# without (marked elsewhere), IPv6, UDP ops, sh/mh flags, the sip engine.
# After a flush, `lvsh apply` of the saved script restores the kernel exactly.
# lab-timeout: 60
. /lab/lib/lab.sh

run ip link add d0 type dummy
run ip link set d0 up
run ip addr add 10.1.0.1/24 dev d0

step "a state made by hand (and the marks by a script)"
lvsh_apply "$(rhai marks <<'RHAI'
mark(10).vip("192.168.10.120").ports([80, 443]).scheduler("rr").persist(1200)
    .rs(rs("10.1.0.11").dr()).rs(rs("10.1.0.12").dr().weight(3));
mark(20).vip(["2001:db8::20", "2001:db8::21"]).udp().ports(["5000-5010"]).comment("media")
    .scheduler("wlc").rs(rs("2001:db8:1::5").tun("gue", 6080).csum());
RHAI
)"
quietly ipvsadm -A -t 10.1.0.100:80 -s wrr
quietly ipvsadm -a -t 10.1.0.100:80 -r 10.1.0.11:8080 -m -w 5 -x 100 -y 50
quietly ipvsadm -a -t 10.1.0.100:80 -r 10.1.0.12 -i -w 2
quietly ipvsadm -a -t 10.1.0.100:80 -r 10.1.0.13 -i --tun-type gue --tun-port 6080 --tun-csum
quietly ipvsadm -a -t 10.1.0.100:80 -r 10.1.0.14 -i --tun-type gue --tun-port 7000 --tun-remcsum
quietly ipvsadm -a -t 10.1.0.100:80 -r 10.1.0.15 -i --tun-type gre --tun-csum
quietly ipvsadm -A -t 10.1.0.100:443 -s sh -b sh-fallback,sh-port -p 300 -M 255.255.255.0
quietly ipvsadm -a -t 10.1.0.100:443 -r 10.1.0.11 -g -x 10
quietly ipvsadm -A -u 10.1.0.100:53 -s rr -o
quietly ipvsadm -a -u 10.1.0.100:53 -r 10.1.0.11 -m
quietly ipvsadm -A -t [2001:db8::1]:443 -s mh -b mh-port -p 60 -M 64
quietly ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8:1::11]:443 -m -w 4 -y 7 -x 9
quietly ipvsadm -A -t 10.1.0.101:5060 -s lc --pe sip -p 30
quietly ipvsadm -a -t 10.1.0.101:5060 -r 10.1.0.11 -g -w 0
quietly ipvsadm --set 1000 100 200
quietly ipvsadm -A -f 30 -s rr
quietly ipvsadm -a -f 30 -r 10.1.0.11 -g
quietly ipvsadm -A -f 31 -6 -s wlc
quietly ipvsadm --start-daemon master --mcast-interface d0 --syncid 5
quietly ipvsadm --start-daemon backup --mcast-interface d0 --syncid 6 --mcast-group 239.1.2.3 --mcast-port 9000

before=$(kernel_state)
echo "$before"

step "lvsh save"
lvsh save >"$LAB_TMP/saved.rhai" || fail "lvsh save exited with status $?"
cat "$LAB_TMP/saved.rhai"
run lvsh plan "$LAB_TMP/saved.rhai" --detailed-exitcode

step "flush everything"
run ipvsadm -C
run ipvsadm --stop-daemon master
run ipvsadm --stop-daemon backup
run nft delete table inet lvsh
run ipvsadm --set 900 120 300
expect_eq "ipvsadm -S -n after the flush" "$(ipvsadm -S -n)" ""
expect_ne "the state after the flush" "$(kernel_state 2>/dev/null)" "$before"

step "lvsh apply saved.rhai brings it all back"
lvsh_apply "$LAB_TMP/saved.rhai"
run lvsh plan "$LAB_TMP/saved.rhai" --detailed-exitcode
expect_same_state "after save, flush and apply" "$before"
