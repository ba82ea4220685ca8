# `lvsh drain` takes a real server out of rotation while a long connection through
# the VIP is open: weight 0 at once, the connection keeps working, new ones go to
# the other server; `lvsh status` shows the drain with its connection; `lvsh apply`
# of the same script (and a saved plan) keeps the weight at 0 and says why;
# `lvsh undrain` gives the weight back. Bad targets and no root change nothing.
# lab-timeout: 150
. /lab/lib/lab.sh
topo_up

# Port 7 on each real server: says its name, then echoes (topo.sh).
echo_servers
sleep 0.5

# A short FIN timeout, so that a closed connection leaves the counters soon.
site=$(rhai site <<RHAI
timeouts(900, 2, 300);
service("$VIP", 7).scheduler("rr").rs(rs("$RS1").dr().weight(10)).rs(rs("$RS2").dr().weight(10));
RHAI
)

# weights: each real server of VIP:7 with its weight, as ipvsadm lists them.
weights() { ipvsadm -L -n | awk '$1 == "->" && $2 ~ /:7$/ { print $2, $4 }'; }

step "two long-lived connections through the VIP, one per real server"
lvsh_apply "$site"
connect 1
say 1 ping1
connect 2
say 2 ping2
if [ "$(head -n 1 "$LAB_TMP/out.1")" = rs2 ]; then held=1; else held=2; fi
expect_eq "connection $held's server" "$(head -n 1 "$LAB_TMP/out.$held")" rs2

step "drain rs2: weight 0 at once, recorded, its connection counted"
out=$(lvsh drain "$RS2" --service "tcp $VIP:7" 2>&1) || fail "lvsh drain: $out"
echo "$out"
expect_line "drain's report" "$out" "draining rs $RS2:7 of tcp $VIP:7: weight 10 -> 0, 1 active / 0 inactive connections, no deadline (it waits for its connections however long they last)"
expect_line "drain's note" "$out" "note: \`lvsh watch\` is not running in this namespace: the weight stays 0 and every apply keeps it, but nothing marks the drain done; \`lvsh status\` shows the connections left"
expect_eq "weights" "$(weights)" "$RS1:7 10
$RS2:7 0"
say "$held" still-there
for n in 3 4 5 6; do
    connect $n
    say $n "new$n"
done
expect_eq "new connections' servers" \
    "$(for n in 3 4 5 6; do head -n 1 "$LAB_TMP/out.$n"; done | tr '\n' ' ')" "rs1 rs1 rs1 rs1 "
run cat "$LVSH_STATE_DIR"/*/runtime.json
out=$(lvsh history)
echo "$out"
echo "$out" | tail -n 1 | grep -q "drain $RS2 --service 'tcp $VIP:7' *+0 ~1 -0 *applied" ||
    fail "the journal's last entry is not the drain"
ok "the journal records the drain as an apply"

step "lvsh status: rs2 draining with its connection"
out=$(lvsh status) || fail "lvsh status: $out"
echo "$out"
expect_line "status's first line" "$(echo "$out" | head -n 1)" \
    "lvsh watch is not running in this namespace: health is as it last saw it, and drains do not move on."
expect_line "status of rs1" "$out" "  rs $RS1:7  weight 10 (script -), unchecked"
rs2_line=$(echo "$out" | grep "rs $RS2:7")
case $rs2_line in
    *"weight 0 (script -), unchecked, draining since "*": 1 active / 0 inactive connections (1 left), no deadline") ok "status of rs2: $rs2_line" ;;
    *) fail "status of rs2: $rs2_line" ;;
esac
json=$(lvsh status --json) || fail "lvsh status --json: $json"
echo "$json" | grep -q '"state": "draining"' || { echo "$json"; fail "status --json: no draining rs"; }
echo "$json" | grep -q '"active": 1' || { echo "$json"; fail "status --json: no active connection"; }
ok "status --json: draining, 1 active"

step "draining again changes nothing"
before=$(kernel_state)
out=$(lvsh drain "$RS2" 2>&1) || fail "second drain: $out"
echo "$out"
case $out in
    "rs $RS2:7 of tcp $VIP:7: draining already, since "*"; nothing changed") ok "second drain: reported" ;;
    *) fail "second drain: $out" ;;
esac
expect_same_state "after the second drain" "$before"

step "lvsh apply of the same script keeps rs2 at 0 and says why"
out=$(lvsh apply --yes "$site" 2>&1) || fail "apply: $out"
echo "$out"
expect_line "apply" "$out" "Held by the run-time side (not changes):"
hold=$(echo "$out" | grep "rs $RS2:7 of tcp $VIP:7: draining since")
case $hold in
    *", weight held at 0 (script: 10)") ok "the hold: $hold" ;;
    *) fail "the hold: $hold" ;;
esac
expect_line "apply" "$out" "No changes. The kernel matches the script with the weights held above."
expect_eq "weights after apply" "$(weights)" "$RS1:7 10
$RS2:7 0"
out=$(lvsh plan --detailed-exitcode "$site" 2>&1) || fail "plan --detailed-exitcode exited $?: $out"
ok "plan --detailed-exitcode: 0 (holds are not changes)"
out=$(lvsh plan --json "$site")
echo "$out" | grep -q '"reason": "draining"' || { echo "$out"; fail "plan --json: no hold"; }
ok "plan --json: the hold"
run lvsh plan "$site" -o "$LAB_TMP/saved.plan"
out=$(lvsh apply --yes "$LAB_TMP/saved.plan" 2>&1) || fail "apply of the saved plan: $out"
echo "$out"
expect_line "apply of the saved plan" "$out" "No changes. The kernel matches the script with the weights held above."
expect_eq "weights after the saved plan" "$(weights)" "$RS1:7 10
$RS2:7 0"

step "the drained connection closes: status says the drain would end (watch would record it)"
run kill "$(cat "$LAB_TMP/pid.$held")"
eval "exec $((held + 4))>&-"
_i=0
until lvsh status | grep "rs $RS2:7" | grep -q "ends now: connections ended"; do
    _i=$((_i + 1))
    [ "$_i" -lt 30 ] || { lvsh status; ipvsadm -L -n -c; fail "the drain does not end"; }
    sleep 0.5
done
out=$(lvsh status)
echo "$out"
ok "status: ends now: connections ended"

step "bad targets change nothing"
before=$(kernel_state)
fails_with "no real server \`192.168.10.13\` in the kernel" lvsh drain 192.168.10.13
fails_with "the kernel's real servers: $RS1:7 (tcp $VIP:7)" lvsh drain 192.168.10.13
fails_with "no service \`tcp $VIP:8\` in the kernel" lvsh drain "$RS1" --service "$VIP:8"
fails_with "is not drained" lvsh undrain "$RS1"
# A user namespace of its own: no capability over this network namespace.
fails_with "lvsh needs root" unshare --user lvsh drain "$RS1"
fails_with "lvsh needs root" unshare --user lvsh undrain "$RS2"
fails_with "lvsh needs root" unshare --user lvsh status
expect_same_state "after the refusals" "$before"
expect_eq "the drains recorded" "$(grep -c '"state": "draining"' "$LVSH_STATE_DIR"/*/runtime.json)" 1

step "undrain: the weight comes back, new connections alternate again"
out=$(lvsh undrain "$RS2:7" 2>&1) || fail "undrain: $out"
echo "$out"
case $out in
    "undraining rs $RS2:7 of tcp $VIP:7: weight 0 -> 10 (draining since "*")") ok "undrain: reported" ;;
    *) fail "undrain: $out" ;;
esac
expect_eq "weights" "$(weights)" "$RS1:7 10
$RS2:7 10"
expect_alternating "new connections" "$(for n in 1 2 3 4; do hello; done | tr '\n' ' ')"
out=$(lvsh apply --yes "$site" 2>&1) || fail "apply: $out"
expect_eq "apply after undrain" "$out" "No changes. The kernel matches the script."
fails_with "is not drained" lvsh undrain "$RS2"

step "a drain with a deadline and --remove: without watch it only holds weight 0"
out=$(lvsh drain "$RS1:7" --deadline 1s --remove 2>&1) || fail "drain: $out"
echo "$out"
case $out in
    "draining rs $RS1:7 of tcp $VIP:7: weight 10 -> 0, "*" active / "*", deadline "*" UTC, removed once drained
note: "*"nothing marks the drain done nor removes the server;"*) ok "drain with a deadline: reported" ;;
    *) fail "drain with a deadline: $out" ;;
esac
sleep 2
out=$(lvsh status)
echo "$out"
case $(echo "$out" | grep "rs $RS1:7") in
    *"removed once drained, ends now: deadline passed with "*" connection"*) ok "status: the deadline passed" ;;
    *) fail "status of rs1: no passed deadline" ;;
esac
expect_eq "weights" "$(weights)" "$RS1:7 0
$RS2:7 10"
run lvsh plan --detailed-exitcode "$site"
run lvsh undrain "$RS1"
expect_eq "weights after undrain" "$(weights)" "$RS1:7 10
$RS2:7 10"
