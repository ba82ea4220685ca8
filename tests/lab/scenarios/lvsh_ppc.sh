# PPC driven by lvsh: `lvsh apply` of scripts/ppc.rhai (VIP:80, rr, persist 120)
# keeps one client on one real server, like the ipvsadm-driven `ppc`; applying
# it again changes nothing.
. /lab/lib/lab.sh
topo_up

step "without persistence (an inline script), consecutive connections alternate"
lvsh_apply "$(rhai ppc_none <<RHAI
service("$VIP", 80).scheduler("rr").rs(rs("$RS1").dr()).rs(rs("$RS2").dr());
RHAI
)"
expect_alternating "client to VIP:80" "$(ask client $(repeat 6 80))"

step "scripts/ppc.rhai: persist 120 is an edit of the service"
out=$(lvsh apply --yes "$SCRIPTS/ppc.rhai")
echo "$out"
expect_line "the plan" "$out" "~ service tcp $VIP:80  persist off → 120"
expect_line "the summary" "$out" "Applied: 0 added, 1 changed, 0 deleted."
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:80 -s rr -p 120
-a -t $VIP:80 -r $RS1:80 -g -w 1
-a -t $VIP:80 -r $RS2:80 -g -w 1"
one=$(ask client $(repeat 6 80))
expect_same "client to VIP:80" "$one"
two=$(ask client2 $(repeat 6 80))
expect_same "client2 to VIP:80" "$two"
expect_ne "client2's server (rr gave the second template the other one)" "${two%% *}" "${one%% *}"
expect_same "client to VIP:80 again, after client2" "$one $(ask client 80 80)"
expect_none "client to VIP:443: per port, no service there" "$(ask client 443)"

step "applying it again is a no-op"
run lvsh plan "$SCRIPTS/ppc.rhai" --detailed-exitcode
expect_eq "lvsh apply" "$(lvsh apply --yes "$SCRIPTS/ppc.rhai")" "No changes. The kernel matches the script."
