# PFMC driven by lvsh: `lvsh apply` of scripts/pfmc.rhai writes the nft rule
# (VIP tcp {80, 443} → mark 10) and fwmark service 10 (rr, persist 1200) in one
# apply; HTTP and HTTPS of one client stick to one real server, like the
# ipvsadm-driven `pfmc`; applying it again changes nothing.
. /lab/lib/lab.sh
topo_up

step "without persistence (an inline script), marked connections alternate whatever the port"
lvsh_apply "$(rhai pfmc_none <<RHAI
mark(10).vip("$VIP").ports([80, 443]).scheduler("rr").rs(rs("$RS1").dr()).rs(rs("$RS2").dr());
RHAI
)"
expect_alternating "client to VIP:80, :443 in turn" "$(ask client $(repeat 3 80 443))"

step "scripts/pfmc.rhai: persist 1200, one client keeps one real server across 80 and 443"
out=$(lvsh apply --yes "$SCRIPTS/pfmc.rhai")
echo "$out"
expect_line "the plan" "$out" "~ service fwmark 10  persist off → 1200"
expect_line "the summary" "$out" "Applied: 0 added, 1 changed, 0 deleted."
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200
-a -f 10 -r $RS1:0 -g -w 1
-a -f 10 -r $RS2:0 -g -w 1"
one=$(ask client $(repeat 4 80 443))
expect_same "client to VIP:80 and :443" "$one"
two=$(ask client2 $(repeat 4 443 80))
expect_same "client2 to VIP:443 and :80" "$two"
expect_ne "client2's server" "${two%% *}" "${one%% *}"

step "it was lvsh's nft rule that marked the traffic"
rules=$(nft list table inet lvsh)
echo "$rules"
expect_line "the mark rule" "$(echo "$rules" | sed 's/^[[:space:]]*//')" \
    "ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a comment \"lvsh mark 10\""
# Every connection went through fwmark service 10: 6 + 8 + 8 (stats lag up to 2 s).
conns() { ipvsadm -L -n --stats | awk '$1 == "FWM" && $2 == "10" { print $3 }'; }
tries=0
until [ "$(conns)" = 22 ] || [ "$tries" -ge 40 ]; do sleep 0.1; tries=$((tries + 1)); done
expect_eq "connections of fwmark service 10" "$(conns)" 22

step "applying it again is a no-op"
run lvsh plan "$SCRIPTS/pfmc.rhai" --detailed-exitcode
expect_eq "lvsh apply" "$(lvsh apply --yes "$SCRIPTS/pfmc.rhai")" "No changes. The kernel matches the script."
