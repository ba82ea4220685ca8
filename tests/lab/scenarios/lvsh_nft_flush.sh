# Debian's /etc/nftables.conf begins with `flush ruleset`, so a restart or reload
# of nftables.service deletes table `inet lvsh` while the fwmark services stay:
# PFMC traffic dies with no error. lvsh.service is re-run with nftables
# (PartOf=, ReloadPropagatedFrom=); this is what that re-run must find and do:
# `lvsh plan` reports the missing table as drift (exit 2) and `lvsh apply` puts
# the marks back, after which traffic sticks again.
. /lab/lib/lab.sh
topo_up

step "scripts/pfmc.rhai applied: HTTP and HTTPS of one client stick to one server"
lvsh_apply "$SCRIPTS/pfmc.rhai"
expect_same "client to VIP:80 and :443" "$(ask client $(repeat 2 80 443))"

step "nft flush ruleset (what nftables.conf does): the fwmark service stays, the marks go"
run nft flush ruleset
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200"
expect_eq "nft list ruleset" "$(nft list ruleset)" ""
expect_none "client to VIP:80 and :443" "$(ask client 80 443)"

step "lvsh plan sees the missing table as drift"
echo "+ lvsh plan --detailed-exitcode $SCRIPTS/pfmc.rhai"
out=$(lvsh plan --detailed-exitcode "$SCRIPTS/pfmc.rhai")
st=$?
echo "$out"
expect_eq "exit status (2: changes pending)" "$st" 2
expect_line "the plan" "$out" "+ mark 10  ip daddr $VIP tcp dport {80, 443} → fwmark 10"
expect_no_line "nothing else changes" "$out" "service fwmark 10"

step "lvsh apply (what lvsh.service runs) restores them; traffic sticks again"
run lvsh apply --yes --skip-empty "$SCRIPTS/pfmc.rhai"
expect_line "the mark rule" "$(nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
    "ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a comment \"lvsh mark 10\""
expect_same "client to VIP:80 and :443" "$(ask client $(repeat 2 80 443))"
run lvsh plan --detailed-exitcode "$SCRIPTS/pfmc.rhai"
