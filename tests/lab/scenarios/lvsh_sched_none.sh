# Scheduler `none` (the kernel binds no scheduler; ipvsadm and keepalived create
# such services): new connections get no real server. lvsh show, save and plan
# read it, the saved script re-creates it exactly after a flush, and lvsh writes
# it itself: added, and edited to and from another scheduler in place.
# lab-timeout: 90
. /lab/lib/lab.sh
topo_up

step "services with scheduler none, restored by ipvsadm -R (tests/fixtures/ipvsadm/sched_none.rules)"
cat >"$LAB_TMP/sched_none.rules" <<RULES
-A -t 10.1.0.100:80 -s none
-a -t 10.1.0.100:80 -r 10.1.0.11 -g
-A -t 10.1.0.100:81 -s none -b flag-1,flag-3
-A -u 10.1.0.100:53 -s none -p 60 -o
-a -u 10.1.0.100:53 -r 10.1.0.11 -m -w 3
-A -f 7 -s none -p
-a -f 7 -r 10.1.0.12 -i
RULES
run ip link add d0 type dummy
run ip link set d0 up
run ip addr add 10.1.0.1/24 dev d0
run ipvsadm -R <"$LAB_TMP/sched_none.rules"
echo "ipvsadm -S -n (tests/fixtures/ipvsadm/sched_none.saved):"
ipvsadm -S -n
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t 10.1.0.100:81 -s none -b flag-1,flag-3"
run ipvsadm -A -t "$VIP:80" -s none
run ipvsadm -a -t "$VIP:80" -r "$RS1" -g
expect_none "client to VIP:80 (no scheduler, no real server for a new connection)" "$(ask client 80)"

step "lvsh show"
out=$(lvsh show) || fail "lvsh show exited with status $?"
echo "$out"
expect_line "lvsh show" "$out" "TCP  10.1.0.100:81 none flag-1 flag-3"
expect_line "lvsh show" "$out" "FWM  7 none persistent 360"

step "lvsh save, and plan of what it saved"
lvsh save >"$LAB_TMP/saved.rhai" || fail "lvsh save exited with status $?"
cat "$LAB_TMP/saved.rhai"
expect_line "the saved script" "$(cat "$LAB_TMP/saved.rhai")" \
    'service(vip, 81).scheduler("none").flags(["flag-1", "flag-3"]);'
run lvsh plan "$LAB_TMP/saved.rhai" --detailed-exitcode

step "flush, then apply the saved script"
before=$(kernel_state 2>/dev/null)
saved_n=$(ipvsadm -S -n)
run ipvsadm -C
expect_eq "ipvsadm -S -n after the flush" "$(ipvsadm -S -n)" ""
lvsh_apply "$LAB_TMP/saved.rhai"
run lvsh plan "$LAB_TMP/saved.rhai" --detailed-exitcode
expect_same_state "after save, flush and apply" "$before"

step "lvsh edits a service from none to rr and back, in place"
sed "s/service(\"$VIP\", 80).scheduler(\"none\")/service(\"$VIP\", 80).scheduler(\"rr\")/" \
    "$LAB_TMP/saved.rhai" >"$LAB_TMP/rr.rhai"
out=$(lvsh apply --yes "$LAB_TMP/rr.rhai") || fail "lvsh apply exited with status $?"
echo "$out"
expect_line "the summary" "$out" "Applied: 0 added, 1 changed, 0 deleted."
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:80 -s rr"
expect_eq "client to VIP:80 (rr schedules it)" "$(ask client 80)" "rs1"
run lvsh plan "$LAB_TMP/rr.rhai" --detailed-exitcode
out=$(lvsh apply --yes "$LAB_TMP/saved.rhai") || fail "lvsh apply exited with status $?"
echo "$out"
expect_line "the summary" "$out" "Applied: 0 added, 1 changed, 0 deleted."
# (kernel_state would differ in the connection counters the request left.)
expect_eq "ipvsadm -S -n back to none" "$(ipvsadm -S -n)" "$saved_n"
run lvsh plan "$LAB_TMP/saved.rhai" --detailed-exitcode
expect_none "client to VIP:80 (none again)" "$(ask client 80)"

step "a service lvsh adds with scheduler none"
cat "$LAB_TMP/saved.rhai" >"$LAB_TMP/more.rhai"
echo 'service("10.1.0.100", 443).scheduler("none").rs(rs("10.1.0.11"));' >>"$LAB_TMP/more.rhai"
lvsh_apply "$LAB_TMP/more.rhai"
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t 10.1.0.100:443 -s none"
run lvsh plan "$LAB_TMP/more.rhai" --detailed-exitcode
