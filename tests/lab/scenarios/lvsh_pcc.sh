# PCC driven by lvsh: `lvsh apply` of scripts/pcc.rhai (VIP:0, rr, persist 600)
# keeps one client on one real server across ports, like the ipvsadm-driven
# `pcc`; applying it again changes nothing.
. /lab/lib/lab.sh
topo_up

step "before the service, nothing answers on the VIP"
expect_none "client to VIP:80 and :443" "$(ask client 80 443)"

step "scripts/pcc.rhai: port 0, all ports of the VIP, one real server per client"
lvsh_apply "$SCRIPTS/pcc.rhai"
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:0 -s rr -p 600
-a -t $VIP:0 -r $RS1:0 -g -w 1
-a -t $VIP:0 -r $RS2:0 -g -w 1"
one=$(ask client $(repeat 4 80 443))
expect_same "client to VIP:80 and :443" "$one"
two=$(ask client2 $(repeat 4 443 80))
expect_same "client2 to VIP:443 and :80" "$two"
expect_ne "client2's server" "${two%% *}" "${one%% *}"

step "applying it again is a no-op"
run lvsh plan "$SCRIPTS/pcc.rhai" --detailed-exitcode
expect_eq "lvsh apply" "$(lvsh apply --yes "$SCRIPTS/pcc.rhai")" "No changes. The kernel matches the script."
