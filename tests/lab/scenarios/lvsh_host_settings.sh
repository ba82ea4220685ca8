# The host settings a director needs, in namespace x: VIP addresses through
# rtnetlink (marked with IFA_PROTO 76 as lvsh's) and the forwarding and ARP
# sysctls by full name. Checked with `ip` and /proc/sys: an address present
# without lvsh's mark (keepalived's VIP) is reported and left alone; the plan
# after apply is empty; show and save list lvsh's addresses; an interface that
# does not exist is refused with its place; a failed apply takes a new address
# back and restores the sysctls; removing them from the script removes only
# lvsh's; `lvsh rollback` puts them back. Last, a DR real server: its VIP on lo
# answers ARP until lvsh sets arp_ignore/arp_announce, then no longer (busybox
# arping from a second namespace).
. /lab/lib/lab.sh

addrs_x() { on x ip -o addr show | awk '{print $2, $4}' | sort; }
sys_x() {
    for f in ipv4/ip_forward ipv4/conf/lo/arp_ignore ipv4/conf/lo/arp_announce \
        ipv4/conf/all/arp_ignore ipv4/conf/all/arp_announce ipv6/conf/all/forwarding; do
        echo "$f=$(on x cat "/proc/sys/net/$f")"
    done
}
squeeze() { printf '%s\n' "$1" | tr -s ' '; }

step "namespace x with a dummy interface and an address lvsh did not add"
run ip netns add x
run on x ip link set lo up
run on x ip link add d0 type dummy
run on x ip link set d0 up
# keepalived's VIP, as far as lvsh can tell: an address without lvsh's mark.
run on x ip addr add 192.168.10.121/32 dev d0
addrs_before=$(addrs_x)
sys_before=$(sys_x)
echo "$addrs_before"
echo "$sys_before"
expect_line "fresh x" "$sys_before" "ipv4/ip_forward=0"

cat >"$LAB_TMP/site.rhai" <<'RHAI'
service("192.168.10.120", 80).scheduler("rr").rs(rs("10.0.0.11").nat());
address("192.168.10.120/32", "d0");
address("192.168.10.121/32", "d0");
address("2001:db8::120/128", "lo");
sysctl("net.ipv4.ip_forward", 1);
sysctls(#{"net.ipv4.conf.lo.arp_ignore": 1, "net.ipv4.conf.lo.arp_announce": 2});
sysctls(#{"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2});
RHAI

step "plan: the addresses to add, the unmarked one left alone, the sysctls"
plan=$(lvsh --netns x plan "$LAB_TMP/site.rhai")
echo "$plan"
expect_line "plan" "$(squeeze "$plan")" "+ address 192.168.10.120/32 on d0"
expect_line "plan" "$(squeeze "$plan")" "+ address 2001:db8::120/128 on lo"
expect_line "plan" "$(squeeze "$plan")" "~ sysctl net.ipv4.ip_forward 0 → 1"
expect_line "plan" "$(squeeze "$plan")" "~ left alone: address 192.168.10.121/32 on d0 is there without lvsh's mark (keepalived's, or added by hand); lvsh neither takes it over nor removes it"
expect_no_line "plan" "$plan" "+ address 192.168.10.121"

step "a NAT service without forwarding is a warning"
echo 'service("192.168.10.120", 80).scheduler("rr").rs(rs("10.0.0.11").nat());' >"$LAB_TMP/nat.rhai"
out=$(lvsh --netns x plan "$LAB_TMP/nat.rhai" 2>&1 >/dev/null)
echo "$out"
case $out in
    *"\`net.ipv4.ip_forward\` is 0"*) ok "warns about ip_forward" ;;
    *) fail "no warning about ip_forward" ;;
esac

step "apply: the addresses are there, marked, and the sysctls set"
lvsh_apply --netns x "$LAB_TMP/site.rhai"
addrs=$(addrs_x)
echo "$addrs"
expect_line "ip addr" "$addrs" "d0 192.168.10.120/32"
expect_line "ip addr" "$addrs" "d0 192.168.10.121/32"
expect_line "ip addr" "$addrs" "lo 2001:db8::120/128"
# Debian 12's ip does not print an address's protocol: lvsh telling its own
# (192.168.10.120, shown and saved) from the other (192.168.10.121) is the proof.
on x ip -j addr show dev d0
sys=$(sys_x)
echo "$sys"
for want in ipv4/ip_forward=1 ipv4/conf/lo/arp_ignore=1 ipv4/conf/lo/arp_announce=2 \
    ipv4/conf/all/arp_ignore=1 ipv4/conf/all/arp_announce=2 ipv6/conf/all/forwarding=0; do
    expect_line "x after apply" "$sys" "$want"
done
run lvsh --netns x plan "$LAB_TMP/site.rhai" --detailed-exitcode

step "show and save: lvsh's addresses, not the other one"
shown=$(lvsh --netns x show)
echo "$shown"
expect_line "show" "$shown" "  192.168.10.120/32 on d0"
expect_line "show" "$shown" "  net.ipv4.ip_forward = 1"
expect_no_line "show" "$shown" "192.168.10.121"
lvsh --netns x save >"$LAB_TMP/saved.rhai"
cat "$LAB_TMP/saved.rhai"
expect_line "save" "$(cat "$LAB_TMP/saved.rhai")" 'address("192.168.10.120/32", "d0");'
expect_no_line "save" "$(cat "$LAB_TMP/saved.rhai")" "192.168.10.121"
run lvsh --netns x plan "$LAB_TMP/saved.rhai" --detailed-exitcode

step "an interface that does not exist is refused with its place"
state=$(addrs_x)
printf 'sysctl("net.ipv4.ip_forward", 1);\naddress("10.9.9.9/32", "nope0");\n' >"$LAB_TMP/bad.rhai"
fails_with "there is no interface \`nope0\`" \
    lvsh --netns x apply --yes "$LAB_TMP/bad.rhai"
fails_with "bad.rhai:2:1" lvsh --netns x plan "$LAB_TMP/bad.rhai"
echo 'sysctl("net.ipv4.conf.nope0.arp_ignore", 1);' >"$LAB_TMP/bad2.rhai"
fails_with "there is no interface \`nope0\`" lvsh --netns x plan "$LAB_TMP/bad2.rhai"
expect_eq "x: addresses" "$(addrs_x)" "$state"

step "a failed apply takes the new address back and restores the sysctls"
sys_applied=$(sys_x)
cat >"$LAB_TMP/next.rhai" <<'RHAI'
service("192.168.10.120", 80).scheduler("wrr").rs(rs("10.0.0.12").nat());
address("192.168.10.122/32", "d0");
sysctl("net.ipv4.ip_forward", 0);
sysctl("net.ipv4.conf.lo.arp_ignore", 2);
RHAI
out=$(LVSH_FAULT=socket-error-after:1 lvsh --netns x apply --yes "$LAB_TMP/next.rhai" 2>&1)
status=$?
echo "$out"
expect_eq "exit status" "$status" 1
expect_eq "x: addresses as before" "$(addrs_x)" "$addrs"
expect_eq "x: sysctls as before" "$(sys_x)" "$sys_applied"

step "gone from the script: only lvsh's addresses go"
echo 'service("192.168.10.120", 80).scheduler("rr").rs(rs("10.0.0.11").nat());' >"$LAB_TMP/none.rhai"
plan=$(lvsh --netns x plan "$LAB_TMP/none.rhai" 2>/dev/null)
echo "$plan"
expect_line "plan" "$(squeeze "$plan")" "- address 192.168.10.120/32 on d0"
lvsh_apply --netns x "$LAB_TMP/none.rhai"
expect_eq "x: addresses" "$(addrs_x)" "$addrs_before"
expect_eq "x: sysctls the script no longer names stay" "$(sys_x)" "$sys_applied"

step "lvsh rollback puts lvsh's addresses back"
run lvsh --netns x rollback --yes
expect_eq "x: addresses" "$(addrs_x)" "$addrs"

step "a DR real server: with the VIP on lo, ARP for it is answered until lvsh sets arp_ignore"
run ip netns add rs
run ip netns add cl
run ip link add vr netns rs type veth peer name vc netns cl
run on rs ip link set lo up
run on rs ip addr add 192.168.10.11/24 dev vr
run on rs ip link set vr up
run on cl ip addr add 192.168.10.1/24 dev vc
run on cl ip link set vc up
echo 'address("192.168.10.120/32", "lo");' >"$LAB_TMP/rs-vip.rhai"
lvsh_apply --netns rs "$LAB_TMP/rs-vip.rhai"
run on cl arping -c 1 -w 3 -I vc 192.168.10.120
cat >"$LAB_TMP/rs.rhai" <<'RHAI'
address("192.168.10.120/32", "lo");
sysctls(#{"net.ipv4.conf.all.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2});
RHAI
lvsh_apply --netns rs "$LAB_TMP/rs.rhai"
if on cl arping -c 1 -w 2 -I vc 192.168.10.120; then
    fail "the real server still answers ARP for the VIP"
else
    ok "no ARP answer for the VIP on lo"
fi
run on cl arping -c 1 -w 3 -I vc 192.168.10.11
