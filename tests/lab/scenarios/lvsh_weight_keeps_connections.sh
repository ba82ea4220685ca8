# `lvsh apply` edits a service and its real servers in place (SET_SERVICE,
# SET_DEST): established connections through the VIP survive a change of
# weights and scheduler, and a weight 0 (drain) keeps them while new
# connections go to the other real server.
# lab-timeout: 60
. /lab/lib/lab.sh
topo_up

# Port 7 on each real server: says its name, then echoes (topo.sh).
echo_servers
sleep 0.5

service_script() { # NAME SCHEDULER WEIGHT1 WEIGHT2
    rhai "$1" <<RHAI
service("$VIP", 7).scheduler("$2").rs(rs("$RS1").dr().weight($3)).rs(rs("$RS2").dr().weight($4));
RHAI
}

step "two long-lived connections from client, one per real server"
lvsh_apply "$(service_script first rr 1 1)"
connect 1
say 1 ping1
connect 2
say 2 ping2
first=$(head -n 1 "$LAB_TMP/out.1")
second=$(head -n 1 "$LAB_TMP/out.2")
expect_eq "the two connections' servers (rr: one each)" "$(printf '%s\n' "$first" "$second" | sort | tr '\n' ' ')" "rs1 rs2 "
entries() { ipvsadm -L -n -c | awk '$3 == "ESTABLISHED" && $5 == "'"$VIP"':7" { print $4, $6 }' | sed 's/:[0-9]* / /' | sort; }
established=$(entries)
# ActiveConn of both real servers: a real server deleted and added again would start at 0.
active() { ipvsadm -L -n | awk '$1 == "->" && $2 ~ /:7$/ { print $2, $5 }'; }
expect_eq "ActiveConn" "$(active)" "$RS1:7 1
$RS2:7 1"
expect_eq "ipvsadm -L -n -c: ESTABLISHED entries" "$established" "$CLIENT $RS1:7
$CLIENT $RS2:7"

step "weights and scheduler change in place"
out=$(lvsh apply --yes "$(service_script second wrr 3 5)")
echo "$out"
expect_eq "the plan" "$out" "~ service tcp $VIP:7  scheduler rr → wrr
~   rs $RS1:7          weight 1 → 3
~   rs $RS2:7          weight 1 → 5
Plan: 0 to add, 3 to change, 0 to delete.
Applied: 0 added, 3 changed, 0 deleted."
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:7 -s wrr
-a -t $VIP:7 -r $RS1:7 -g -w 3
-a -t $VIP:7 -r $RS2:7 -g -w 5"
expect_eq "ESTABLISHED entries after the apply" "$(entries)" "$established"
expect_eq "ActiveConn after the apply (the same real servers)" "$(active)" "$RS1:7 1
$RS2:7 1"
say 1 after-weights-1
say 2 after-weights-2

step "weight 0 drains $first (connection 1's server): its connection lives on, new ones go to $second"
if [ "$first" = rs1 ]; then
    out=$(lvsh apply --yes "$(service_script drain wrr 0 5)")
    drained="$RS1:7          weight 3"
else
    out=$(lvsh apply --yes "$(service_script drain wrr 3 0)")
    drained="$RS2:7          weight 5"
fi
echo "$out"
expect_line "the plan" "$out" "~   rs $drained → 0 (no new connections)"
say 1 after-drain-1
say 2 after-drain-2
expect_eq "ESTABLISHED entries after the drain" "$(entries)" "$established"
expect_eq "ActiveConn after the drain" "$(active)" "$RS1:7 1
$RS2:7 1"
for n in 3 4 5 6; do
    connect $n
    say $n "new$n"
done
expect_eq "new connections' servers" \
    "$(for n in 3 4 5 6; do head -n 1 "$LAB_TMP/out.$n"; done | tr '\n' ' ')" "$second $second $second $second "
run ipvsadm -L -n -c
