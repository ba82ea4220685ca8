# A `tcp().via_vip()` check probes VIP:80 steered to one real server (a fwmark
# service of its own per server, the probe socket marked): it catches a server
# that answers on its own address but lacks the VIP on `lo`, which a plain check
# passes and real clients fail on. The answers come from the VIP, an address of
# the director, which takes them only with accept_local on the interface they
# arrive on (and, with strict rp_filter, only while the VIP is on that interface).
# The probe services show in `ipvsadm -S -n` but are no drift for
# `plan`, `save` leaves them out, and `drain`/`status` do not count them as
# real servers.
# lab-timeout: 150
. /lab/lib/lab.sh
. /lab/lib/watch.sh
topo_up

S="-t $VIP:80"
lb=$(rhai lb <<RHAI
service("$VIP", 80).scheduler("rr")
    .check(tcp().via_vip().every(1).timeout(0.5).rise(2).fall(2))
    .rs(rs("$RS1").dr()).rs(rs("$RS2").dr());
RHAI
)

step "accept_local off (the default): the director drops the answers from its own VIP"
expect_eq "accept_local (all, br0)" \
    "$(sysctl -n net.ipv4.conf.all.accept_local) $(sysctl -n net.ipv4.conf.br0.accept_local)" "0 0"
expect_eq "rp_filter (all, br0)" \
    "$(sysctl -n net.ipv4.conf.all.rp_filter) $(sysctl -n net.ipv4.conf.br0.rp_filter)" "0 0"
quietly sysctl -w net.ipv4.conf.br0.log_martians=1
watch_start "$lb"
# The reason says what to set.
hint="timed out after 500ms connecting; answers from the VIP are dropped unless net.ipv4.conf.br0.accept_local=1"
await_log "rs $RS1:80 of tcp $VIP:80: unknown -> down ($hint, " 10
await_log "rs $RS2:80 of tcp $VIP:80: unknown -> down ($hint, " 10
expect_eq "weights" "$(weight_of "$S" "$RS1:80") $(weight_of "$S" "$RS2:80")" "0 0"
dmesg | grep -F "martian source $DIP from $VIP, on dev br0" | tail -n 1 | grep . ||
    fail "the kernel logged no martian source $VIP"
ok "the kernel drops the SYN-ACKs as martians (source $VIP is local)"

step "accept_local=1 on br0, and nothing else: both rise"
run sysctl -w net.ipv4.conf.br0.accept_local=1
await_weight "$S" "$RS1:80" 1 10
await_weight "$S" "$RS2:80" 1 10
await_log "rs $RS1:80 of tcp $VIP:80: down -> up (connected" 1
expect_alternating "client to VIP:80" "$(ask client $(repeat 6 80))"

step "strict rp_filter: fine while the VIP is on br0, the answers' interface; not when elsewhere"
# still_up SECONDS: no server of the script went down meanwhile.
still_up() {
    _from=$(log_lines)
    sleep "$1"
    expect_no_line "the log since" "$(tail -n "+$((_from + 1))" "$WATCH_LOG")" "-> down"
    expect_eq "weights" "$(weight_of "$S" "$RS1:80") $(weight_of "$S" "$RS2:80")" "1 1"
}
quietly sysctl -w net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.br0.rp_filter=1
still_up 3
# With the VIP on another interface, the reverse path of the answers' source (the
# VIP) is not br0: strict mode drops them, loose mode (2) takes them.
echo "link add vip0 type dummy
link set vip0 up
addr del $VIP/32 dev br0
addr add $VIP/32 dev vip0" | ip -batch - || fail "moving the VIP"
await_log "rs $RS1:80 of tcp $VIP:80: up -> down (timed out after 500ms connecting, " 10
await_log "rs $RS2:80 of tcp $VIP:80: up -> down (timed out after 500ms connecting, " 10
# The weights follow on the daemon's next tick: wait for them, or the waits for
# the rises below could pass on the old weights before the daemon wrote 0.
await_weight "$S" "$RS1:80" 0 10
await_weight "$S" "$RS2:80" 0 10
run sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.br0.rp_filter=2
await_weight "$S" "$RS1:80" 1 10
await_weight "$S" "$RS2:80" 1 10
echo "addr del $VIP/32 dev vip0
addr add $VIP/32 dev br0
link del vip0" | ip -batch - || fail "moving the VIP back"
quietly sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br0.rp_filter=0
still_up 2

step "the probe services: one fwmark service per server in ipvsadm -S -n"
saved=$(ipvsadm -S -n)
echo "$saved"
marks=$(echo "$saved" | awk '$1 == "-A" && $2 == "-f" { print $3 }')
expect_eq "fwmark services" "$(echo "$marks" | wc -l)" 2
# 0x4c560000..0x4c56ffff
for m in $marks; do
    [ "$m" -ge 1280704512 ] && [ "$m" -le 1280770047 ] || fail "mark $m is not in 0x4c560000..0x4c56ffff"
    expect_line "service $m" "$saved" "-A -f $m -s rr"
    expect_eq "real servers of $m" "$(echo "$saved" | grep -c "^-a -f $m ")" 1
done
expect_eq "the probe services' servers" \
    "$(echo "$saved" | awk '$1 == "-a" && $2 == "-f" { print $5, $6, $7, $8 }' | sort | tr '\n' ' ')" \
    "$RS1:80 -g -w 1 $RS2:80 -g -w 1 "

step "they are no drift: plan says nothing changes, save leaves them out"
out=$(lvsh plan --detailed-exitcode "$lb" 2>&1) || { echo "$out"; fail "plan --detailed-exitcode exited $?"; }
expect_eq "plan" "$out" "No changes. The kernel matches the script."
lvsh save >"$LAB_TMP/saved.rhai" 2>"$LAB_TMP/save.err" || fail "lvsh save"
cat "$LAB_TMP/saved.rhai" "$LAB_TMP/save.err"
expect_no_line "the saved script" "$(cat "$LAB_TMP/saved.rhai")" "mark\|$(echo "$marks" | head -n 1)"
expect_eq "save's note" "$(cat "$LAB_TMP/save.err")" \
    "note: 2 probe service(s) of \`lvsh watch\` left out; watch makes them from the script's checks"

step "status and drain know only the real service"
out=$(lvsh status) || fail "lvsh status"
echo "$out"
expect_no_line "status" "$out" "fwmark"
before=$(ipvsadm -S -n)
out=$(lvsh drain "$RS2" 2>&1) || fail "lvsh drain: $out"
echo "$out"
expect_eq "servers drained" "$(echo "$out" | grep -c '^draining ')" 1
# The three requests of the client above; the probes (two a second so far) leave
# their entries on their own services.
expect_eq "drain's report" "$out" "draining rs $RS2:80 of tcp $VIP:80: weight 1 -> 0, 0 active / 3 inactive connections, no deadline (it waits for its connections however long they last)"
run ipvsadm -L -n
for m in $marks; do
    expect_line "probe service $m after the drain" "$(ipvsadm -S -n)" "$(echo "$saved" | grep "^-a -f $m ")"
done
fails_with "steers the probes of a" \
    lvsh drain "$RS2" --service "fwmark $(echo "$marks" | head -n 1)"
run lvsh undrain "$RS2"
expect_eq "ipvsadm -S -n after drain and undrain" "$(ipvsadm -S -n)" "$before"

step "the VIP off rs1's lo: rs1's own address still answers, the via_vip check takes it out"
t0=$(now_ms)
run on rs1 ip addr del "$VIP/32" dev lo
expect_eq "a plain TCP connection (HTTP GET) from the director to $RS1:80" "$(_get "$RS1" 80)" rs1
await_weight "$S" "$RS1:80" 0 10
took=$(( $(now_ms) - t0 ))
# Two failed probes a second apart (the first up to a second after the change),
# each failing at its 0.5 s timeout, plus the write: 3.5 s; 1.5 s more for the
# emulated machine.
[ "$took" -le 5000 ] || fail "detection took $took ms (bound 5000 ms)"
ok "rs1 at weight 0 $took ms after its VIP went"
await_log "rs $RS1:80 of tcp $VIP:80: up -> down (timed out after 500ms connecting, " 1
expect_eq "rs2's weight" "$(weight_of "$S" "$RS2:80")" 1
expect_eq "a plain TCP connection to $RS1:80, still" "$(_get "$RS1" 80)" rs1
expect_same "client to VIP:80 while rs1 lacks the VIP" "$(ask client $(repeat 6 80))"
expect_eq "who answers" "$(ask client 80)" rs2

step "the VIP back on rs1's lo: rs1 rises"
t0=$(now_ms)
run on rs1 ip addr add "$VIP/32" dev lo
await_weight "$S" "$RS1:80" 1 10
ok "rs1 at weight 1 $(( $(now_ms) - t0 )) ms after its VIP came back"
await_log "rs $RS1:80 of tcp $VIP:80: down -> up (connected" 1
expect_alternating "client to VIP:80" "$(ask client $(repeat 6 80))"
watch_stop TERM
