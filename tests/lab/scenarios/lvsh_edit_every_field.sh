# Every field of a service, a real server and a mark rule that the kernel can
# edit is an edit in the plan (SET_SERVICE, SET_DEST, the nft table), there and
# back: scheduler and flags, persistence, netmask, pe, ops; forwarding and
# tunnels, weight, thresholds; a mark's vips, protocol and ports. Each apply
# converges (the plan after it is empty) and the kernel holds what was asked.
. /lab/lib/lab.sh

run ip link add d0 type dummy
run ip link set d0 up
run ip addr add 10.99.0.1/24 dev d0

a=$(rhai a <<'RHAI'
service("10.99.0.100", 80).scheduler("sh").flags(["sh-port"]).persist(100).netmask("255.255.255.0")
    .rs(rs("10.99.0.11").dr()).rs(rs("10.99.0.12").nat().weight(4).u_threshold(10));
service("10.99.0.100", 5060).udp().persist(30).pe("sip").ops().rs(rs("10.99.0.11").nat());
service("2001:db8::100", 53).udp().ops().scheduler("lblc").rs(rs("2001:db8:1::11").tun("gue", 5555).remcsum());
mark(10).vip("10.99.0.50").rs(rs("10.99.0.11"));
RHAI
)
b=$(rhai b <<'RHAI'
service("10.99.0.100", 80).scheduler("mh").flags(["mh-fallback"])
    .rs(rs("10.99.0.11").tun("gre").csum()).rs(rs("10.99.0.12").dr().weight(0).l_threshold(3).u_threshold(5));
service("10.99.0.100", 5060).udp().rs(rs("10.99.0.11").tun());
service("2001:db8::100", 53).udp().scheduler("lblc").rs(rs("2001:db8:1::11").nat());
mark(10).vip("10.99.0.51").udp().port(53).rs(rs("10.99.0.11"));
RHAI
)
a_ipvs="-A -t 10.99.0.100:80 -s sh -p 100 -M 255.255.255.0 -b sh-port
-a -t 10.99.0.100:80 -r 10.99.0.11:80 -g -w 1
-a -t 10.99.0.100:80 -r 10.99.0.12:80 -m -w 4
-A -u 10.99.0.100:5060 -s wlc -p 30 --pe sip -o
-a -u 10.99.0.100:5060 -r 10.99.0.11:5060 -m -w 1
-A -u [2001:db8::100]:53 -s lblc -o
-a -u [2001:db8::100]:53 -r [2001:db8:1::11]:53 -i -w 1 --tun-type gue --tun-port 5555 --tun-remcsum
-A -f 10 -s wlc
-a -f 10 -r 10.99.0.11:0 -g -w 1"

step "the first script"
lvsh_apply "$a"
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "$a_ipvs"
a_nft=$(nft list table inet lvsh)

step "every field changes: eight edits, nothing added or deleted"
out=$(lvsh apply --yes "$b")
echo "$out"
expect_eq "the plan" "$out" \
"~ service tcp 10.99.0.100:80      scheduler sh → mh, flags sh-port → mh-fallback, persist 100 → off, netmask 255.255.255.0 → 255.255.255.255
~   rs 10.99.0.11:80              forward dr → tun gre csum
~   rs 10.99.0.12:80              forward nat → dr, weight 4 → 0 (no new connections), u_threshold 10 → 5, l_threshold 0 → 3
~ service udp 10.99.0.100:5060    persist 30 → off, pe sip → none, ops on → off
~   rs 10.99.0.11:5060            forward nat → tun
~ service udp [2001:db8::100]:53  ops on → off
~   rs [2001:db8:1::11]:53        forward tun gue port 5555 remcsum → nat
~ mark 10                         daddr 10.99.0.50 → 10.99.0.51, protocols tcp → udp, dport any → 53
Plan: 0 to add, 8 to change, 0 to delete.
Applied: 0 added, 8 changed, 0 deleted."
run lvsh plan "$b" --detailed-exitcode
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t 10.99.0.100:80 -s mh -b mh-fallback
-a -t 10.99.0.100:80 -r 10.99.0.11:80 -i -w 1 --tun-type gre --tun-csum
-a -t 10.99.0.100:80 -r 10.99.0.12:80 -g -w 0
-A -u 10.99.0.100:5060 -s wlc
-a -u 10.99.0.100:5060 -r 10.99.0.11:5060 -i -w 1 --tun-type ipip
-A -u [2001:db8::100]:53 -s lblc
-a -u [2001:db8::100]:53 -r [2001:db8:1::11]:53 -m -w 1
-A -f 10 -s wlc
-a -f 10 -r 10.99.0.11:0 -g -w 1"
expect_eq "the thresholds of 10.99.0.12:80 (upper lower)" \
    "$(ipvsadm -L -n --thresholds | awk '$2 == "10.99.0.12:80" { print $3, $4 }')" "5 3"
expect_line "the mark rule" "$(nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
    "ip daddr 10.99.0.51 udp dport 53 meta mark set 0x0000000a comment \"lvsh mark 10\""

step "and back: eight edits again, the kernel as it was"
out=$(lvsh apply --yes "$a")
echo "$out"
expect_line "the summary" "$out" "Applied: 0 added, 8 changed, 0 deleted."
run lvsh plan "$a" --detailed-exitcode
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "$a_ipvs"
expect_eq "nft list table inet lvsh" "$(nft list table inet lvsh)" "$a_nft"
