# Marks lvsh must read back exactly: multi-protocol marks (`meta l4proto` sets,
# which nft lists as names, or as numbers where /etc/protocols is missing), one
# mark number for both families, an IPv4 rule next to an IPv6 fwmark service alone
# (made by hand with ipvsadm), IPv4 and IPv6 vips on one service. apply converges,
# plan says no changes, save writes it all, and after a flush the saved script
# restores `ipvsadm -S -n` and `nft list table inet lvsh` byte for byte. The
# multi-protocol marks then once more in a mount namespace without /etc/protocols.
# lab-timeout: 180
. /lab/lib/lab.sh

# The marks whose nft rules hold a `meta l4proto` set.
multi_protocol='
mark(10).vip("10.1.0.100").protocols(["tcp", "udp"]).ports([53]).scheduler("rr")
    .rs(rs("10.1.0.11"));
mark(11).vip("2001:db8::11").protocols(["tcp", "udp", "sctp"]).ports([53, "8000-8100"])
    .rs(rs("2001:db8:1::11"));
// One mark number, both families.
mark(12).vip("10.1.0.112").protocols(["tcp", "udp"]).port(53).comment("dns")
    .rs(rs("10.1.0.12"));
mark(12).vip("2001:db8::12").protocols(["tcp", "udp"]).port(53).comment("dns")
    .rs(rs("2001:db8:1::12"));
'

# round_trip WHAT SCRIPT [EDIT]: apply SCRIPT, which converges; run EDIT (by hand);
# save; flush; apply the saved script: the kernel is as before.
round_trip() {
    step "$1: apply"
    lvsh_apply "$2"
    run lvsh plan "$2" --detailed-exitcode
    [ -n "${3:-}" ] && $3
    nft list table inet lvsh
    ipvsadm -S -n

    step "$1: lvsh save, and plan of the saved script"
    lvsh save >"$LAB_TMP/saved.rhai" || fail "lvsh save exited with status $?"
    cat "$LAB_TMP/saved.rhai"
    saved=$(cat "$LAB_TMP/saved.rhai")
    expect_no_line "the saved script" "$saved" "left out"
    expect_line "the saved script" "$saved" \
        'mark(12).vip("2001:db8::12").protocols(["tcp", "udp"]).port(53).comment("dns")'
    run lvsh plan "$LAB_TMP/saved.rhai" --detailed-exitcode

    step "$1: flush, apply the saved script, and it is all back"
    before=$(kernel_state)
    run ipvsadm -C
    run nft delete table inet lvsh
    lvsh_apply "$LAB_TMP/saved.rhai"
    run lvsh plan "$LAB_TMP/saved.rhai" --detailed-exitcode
    expect_same_state "$1: after save, flush and apply" "$before"
}

if [ "${1:-}" = numeric ]; then
    run mount --bind /dev/null /etc/protocols
    round_trip "protocols as numbers" "$(rhai numeric <<RHAI
$multi_protocol
RHAI
)"
    expect_line "nft without /etc/protocols" "$(nft list table inet lvsh)" \
        "		ip daddr 10.1.0.100 meta l4proto { 6, 17 } th dport 53 meta mark set 0x0000000a comment \"lvsh mark 10\""
    exit 0
fi

run ip link add d0 type dummy
run ip link set d0 up
run ip addr add 10.1.0.1/24 dev d0
run ip addr add 2001:db8:1::1/64 dev d0 nodad

# Mark 13 by hand: its IPv4 rule stays, its fwmark service becomes IPv6.
mark13_by_hand() {
    run ipvsadm -D -f 13
    run ipvsadm -A -f 13 -6 -s rr
    run ipvsadm -a -f 13 -6 -r 2001:db8:1::13 -g
}
round_trip "protocols as names" "$(rhai marks <<RHAI
$multi_protocol
mark(13).vip("10.1.0.113").protocols(["tcp", "udp"]).port(53).rs(rs("10.1.0.13"));
// An IPv4 mark and the IPv6 fwmark service of the same number.
mark(14).vip("10.1.0.114").port(80).rs(rs("10.1.0.14"));
mark(14).ipv6().scheduler("sh").rs(rs("2001:db8:1::14"));
// IPv4 and IPv6 vips on the IPv6 service alone.
mark(15).ipv6().vip(["10.1.0.115", "2001:db8::15"]).udp().port(5060)
    .rs(rs("2001:db8:1::15"));
RHAI
)" mark13_by_hand
expect_line "the saved script" "$saved" \
    'mark(13).ipv6().vip("10.1.0.113").protocols(["tcp", "udp"]).port(53).scheduler("rr")'
expect_line "the saved script" "$saved" \
    'mark(15).ipv6().vip(["10.1.0.115", "2001:db8::15"]).udp().port(5060)'

step "the multi-protocol marks where nft lists protocols as numbers"
run ipvsadm -C
run nft delete table inet lvsh
run unshare --mount -- sh "$0" numeric
