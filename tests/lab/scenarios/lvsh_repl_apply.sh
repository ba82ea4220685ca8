# `lvsh repl` on the live kernel, scripted through stdin: a service built over
# several lines and entries, an error that changes nothing, :plan, :apply; the
# kernel then holds exactly that, traffic follows it, and a second session edits it.
. /lab/lib/lab.sh
topo_up

step "a session builds PFMC step by step and applies it"
out=$(lvsh repl 2>"$LAB_TMP/err" <<RHAI
let vip = "$VIP";
let shop = mark(10).vip(vip)
    .ports([80, 443])
    .scheduler("rr");
shop.persist(1200);
shop.scheduler("rrr");
for ip in ["$RS1", "$RS2"] { shop.rs(rs(ip).dr()); }
:plan
:apply
:plan
RHAI
)
status=$?
echo "$out"
cat "$LAB_TMP/err"
expect_eq "repl exit status (one entry failed)" "$status" 1
expect_line "repl stderr" "$(cat "$LAB_TMP/err")" "  x unknown scheduler \`rrr\`, did you mean \`rr\`?"
expect_line "repl :plan" "$out" "Plan: 4 to add, 0 to change, 0 to delete."
expect_line "repl :apply" "$out" "Applied: 4 added, 0 changed, 0 deleted."
expect_line "repl :plan after :apply" "$out" "No changes. The kernel matches the script."
saved=$(ipvsadm -S -n)
expect_eq "ipvsadm -S -n" "$(echo "$saved" | sort)" "$(printf '%s\n' \
    "-A -f 10 -s rr -p 1200" \
    "-a -f 10 -r $RS1:0 -g -w 1" \
    "-a -f 10 -r $RS2:0 -g -w 1" | sort)"
expect_line "nft list table inet lvsh" "$(nft list table inet lvsh)" \
    "		ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a comment \"lvsh mark 10\""

step "traffic follows the applied model: one client, one server, across 80 and 443"
expect_same "client to VIP:80 and :443" "$(ask client $(repeat 3 80 443))"

step "a second session drains rs2 and applies"
out=$(lvsh repl <<RHAI 2>&1
mark(10).rs(rs("$RS2").weight(0));
:apply
RHAI
)
echo "$out"
expect_line "repl :apply" "$out" "Applied: 0 added, 1 changed, 0 deleted."
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-a -f 10 -r $RS2:0 -g -w 0"
run lvsh plan /dev/stdin --detailed-exitcode <<RHAI
mark(10).vip("$VIP").ports([80, 443]).scheduler("rr").persist(1200)
    .rs(rs("$RS1").dr())
    .rs(rs("$RS2").dr().weight(0));
RHAI
