# `lvsh --netns NAME` works on another network namespace: apply, plan and the
# nft table all land there, and the namespace lvsh runs in stays untouched.
. /lab/lib/lab.sh

step "the namespace lvsh runs in has its own balancer"
cat "$SCRIPTS/ppc.rhai" - >"$LAB_TMP/here.rhai" <<'RHAI'
mark(20).vip("192.168.10.121").port(25).rs(rs("192.168.10.13"));
RHAI
lvsh_apply "$LAB_TMP/here.rhai"
root_ipvs=$(ipvsadm -S -n)
root_nft=$(nft list ruleset)

step "lvsh --netns x apply"
run ip netns add x
# No destination is accepted before the namespace has an address (lo up is enough).
run on x ip link set lo up
lvsh_apply --netns x "$SCRIPTS/pfmc.rhai"
expect_eq "x: ipvsadm -S -n" "$(on x ipvsadm -S -n)" "-A -f 10 -s rr -p 1200
-a -f 10 -r $RS1:0 -g -w 1
-a -f 10 -r $RS2:0 -g -w 1"
expect_line "x: the mark rule" "$(on x nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
    "ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a comment \"lvsh mark 10\""
run lvsh --netns x plan "$SCRIPTS/pfmc.rhai" --detailed-exitcode
expect_eq "x: apply again" "$(lvsh --netns x apply --yes "$SCRIPTS/pfmc.rhai")" \
    "No changes. The kernel matches the script."

step "the namespace lvsh runs in is untouched"
expect_eq "ipvsadm -S -n here" "$(ipvsadm -S -n)" "$root_ipvs"
expect_eq "nft list ruleset here" "$(nft list ruleset)" "$root_nft"
run lvsh plan "$LAB_TMP/here.rhai" --detailed-exitcode

step "a namespace that does not exist"
fails_with "network namespace \`nope\` does not exist" lvsh --netns nope plan "$SCRIPTS/ppc.rhai"
fails_with "network namespace \`nope\` does not exist" lvsh --netns nope apply --yes "$SCRIPTS/ppc.rhai"
