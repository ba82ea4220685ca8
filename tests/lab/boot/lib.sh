# Helpers of the boot lab's scenarios (on the lab disk as /lab/lib/boot.sh),
# after /lab/lib/lab.sh.

# table_handle: the handle of table inet lvsh ("none" when there is none); a
# table deleted and made again has a new one.
table_handle() {
    nft -a list table inet lvsh 2>/dev/null | awk 'NR == 1 { print $NF; found = 1 }
        END { if (!found) print "none" }'
}

# await_table SECONDS: waits until table inet lvsh exists; fails after SECONDS.
await_table() {
    _i=0
    until nft list table inet lvsh >/dev/null 2>&1; do
        _i=$((_i + 1))
        [ "$_i" -lt $(($1 * 10)) ] || fail "table inet lvsh is not back $1 s later"
        sleep 0.1
    done
}

# expect_pfmc WHAT: the kernel holds scripts/pfmc.rhai and clients stick.
expect_pfmc() {
    expect_eq "$1: ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200
-a -f 10 -r $RS1:0 -g -w 1
-a -f 10 -r $RS2:0 -g -w 1"
    expect_line "$1: the mark rule" "$(nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
        "ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a comment \"lvsh mark 10\""
    expect_same "$1: client to VIP:80 and :443" "$(ask client $(repeat 3 80 443))"
}

# nft_cycle restart|reload: the nftables.service action with Debian's
# `flush ruleset` in /etc/nftables.conf, and lvsh's table back after it.
nft_cycle() {
    topo_up
    expect_line "Debian's /etc/nftables.conf" "$(cat /etc/nftables.conf)" "flush ruleset"
    expect_pfmc "before"
    before=$(table_handle)
    step "systemctl $1 nftables.service"
    run systemctl "$1" nftables.service
    await_table 10
    after=$(table_handle)
    [ "$after" != "$before" ] ||
        fail "table inet lvsh has its old handle $before: nftables' flush did not happen?"
    ok "table inet lvsh is back (handle $before, now $after)"
    nft list table inet filter >/dev/null || fail "nftables.conf's own table inet filter is missing"
    ok "nftables.conf's table inet filter is there too"
    journalctl -b -u lvsh.service --no-pager -o cat | tail -n 5
    expect_pfmc "after the $1"
    run lvsh plan /etc/lvsh/lvsh.rhai --detailed-exitcode
}

# pfmc_with_check: /etc/lvsh/lvsh.rhai becomes scripts/pfmc.rhai with an HTTP
# check on port 80, for the watch scenarios.
pfmc_with_check() {
    cat >/etc/lvsh/lvsh.rhai <<RHAI
// scripts/pfmc.rhai with an HTTP check on port 80.
mark(10).vip("$VIP").ports([80, 443]).scheduler("rr").persist(1200)
    .check(http("/").port(80).every(1).timeout(0.5).rise(2).fall(2))
    .rs(rs("$RS1").dr())
    .rs(rs("$RS2").dr());
RHAI
}
