# `lvsh drain --remove` while `lvsh watch` runs, with a long connection through the
# VIP open on the drained server: weight 0 at once, the connection keeps echoing,
# new connections go to the other server, `status` says draining with 1 active;
# `apply` of the script keeps the weight at 0; `kill -9` of watch and a restart
# change nothing in the kernel (table and connection counters) and the drain goes
# on; when the connection closes watch logs the drain done and removes the server.
# `--metrics` serves health, weights, connections and transitions.
# lab-timeout: 150
. /lab/lib/lab.sh
. /lab/lib/watch.sh
topo_up

# Port 7 on each real server: says its name, then echoes (topo.sh).
echo_servers

# The director sees only the client's half of a DR connection: after the client's
# FIN the entry waits in FIN_WAIT for the tcpfin timeout (120 s by default) and
# counts as inactive, which a drain waits for. 2 s ends the drain soon after the
# connection does.
lb=$(rhai lb <<RHAI
timeouts(900, 2, 300);
service("$VIP", 7).scheduler("rr")
    .check(tcp().every(1).timeout(0.5).rise(2).fall(2))
    .rs(rs("$RS1").dr().weight(10)).rs(rs("$RS2").dr().weight(10));
RHAI
)
S="-t $VIP:7"

# counters: each real server of VIP:7 with weight, ActiveConn and InActConn.
counters() { ipvsadm -L -n | awk '$1 == "->" && $2 ~ /:7$/ { print $2, $4, $5, $6 }'; }
# metrics: a scrape of watch's /metrics.
metrics() {
    printf 'GET /metrics HTTP/1.0\r\n\r\n' | timeout 5 nc 127.0.0.1 9610 | tr -d '\r'
}
# await_metric LINE SECONDS: until a scrape has LINE (the gauges follow the kernel
# every 5 s).
await_metric() {
    _i=0
    until metrics | grep -qxF -- "$1"; do
        _i=$((_i + 1))
        [ "$_i" -lt $(($2 * 2)) ] || { metrics; fail "no metric line \"$1\" within $2 s"; }
        sleep 0.5
    done
    ok "metrics: $1"
}
# steady: waits until no short connection is left in the counters (only the held ones).
steady() {
    _i=0
    until [ "$(ipvsadm -L -n -c | grep -c FIN_WAIT)" = 0 ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 50 ] || { ipvsadm -L -n -c; fail "closed connections do not expire"; }
        sleep 0.2
    done
}

step "watch on an empty kernel, with metrics; both servers rise"
watch_start "$lb" --metrics 127.0.0.1:9610
await_log "metrics at http://127.0.0.1:9610/metrics" 1
await_weight "$S" "$RS1:7" 10 10
await_weight "$S" "$RS2:7" 10 10

step "two long-lived connections through the VIP, one per server"
connect 1
say 1 ping1
connect 2
say 2 ping2
if [ "$(head -n 1 "$LAB_TMP/out.1")" = rs2 ]; then held=1; else held=2; fi
expect_eq "connection $held's server" "$(head -n 1 "$LAB_TMP/out.$held")" rs2

step "drain rs2 with --remove: weight 0 at once, the connection lives, new ones go to rs1"
out=$(lvsh drain "$RS2" --service "tcp $VIP:7" --remove 2>&1) || fail "lvsh drain: $out"
echo "$out"
expect_eq "drain's report" "$out" "draining rs $RS2:7 of tcp $VIP:7: weight 10 -> 0, 1 active / 0 inactive connections, no deadline (it waits for its connections however long they last), removed once drained"
expect_eq "counters" "$(counters)" "$RS1:7 10 1 0
$RS2:7 0 1 0"
say "$held" still-there
expect_eq "new connections' servers" "$(for n in 1 2 3 4; do hello; done | tr '\n' ' ')" "rs1 rs1 rs1 rs1 "
out=$(lvsh status) || fail "lvsh status"
echo "$out"
expect_line "status's first line" "$(echo "$out" | head -n 1)" "lvsh watch is running in this namespace."
case $(echo "$out" | grep "rs $RS2:7") in
    *"weight 0 (script 10), up since "*", draining since "*": 1 active / "*" inactive connections ("*" left), no deadline, removed once drained") ok "status: rs2 draining with 1 active" ;;
    *) fail "status of rs2" ;;
esac
sleep 3
expect_no_line "the watch log" "$(cat "$WATCH_LOG")" "draining -> drained"

step "metrics: health, weights, connections, transitions"
L="service=\"tcp $VIP:7\",server=\"$RS2:7\""
await_metric "lvsh_server_weight{$L,kind=\"effective\"} 0" 10
m=$(metrics)
echo "$m" | grep -E "^lvsh_(server|health|applies)" 
for line in \
    "lvsh_server_health{$L} 1" \
    "lvsh_server_weight{$L,kind=\"script\"} 10" \
    "lvsh_server_connections{$L,state=\"active\"} 1" \
    "lvsh_server_connections{$L,state=\"inactive\"} 0" \
    "lvsh_health_transitions_total{$L,to=\"up\"} 1" \
    "lvsh_server_weight{service=\"tcp $VIP:7\",server=\"$RS1:7\",kind=\"effective\"} 10"; do
    expect_line "metrics" "$m" "$line"
done
echo "$m" | grep -q '^lvsh_probe_duration_seconds_count{check="tcp",result="ok"} [1-9]' ||
    fail "metrics: no ok tcp probes counted"
ok "metrics: ok tcp probes counted"
# nc shuts its sending half after the request: every scrape still gets its answer.
answered=0
for i in $(seq 20); do
    metrics | grep -q '^lvsh_server_health{' && answered=$((answered + 1))
done
expect_eq "scrapes answered of 20" "$answered" 20

step "lvsh apply of the script during the drain keeps rs2 at 0"
out=$(lvsh apply --yes "$lb" 2>&1) || fail "apply: $out"
echo "$out"
expect_line "apply" "$out" "No changes. The kernel matches the script with the weights held above."
expect_eq "rs2's weight" "$(weight_of "$S" "$RS2:7")" 0

step "kill -9 of watch during the drain; the restart changes nothing and the drain goes on"
steady
before=$(kernel_state)
counted=$(counters)
echo "$counted"
watch_stop KILL
watch_start "$lb" --metrics 127.0.0.1:9610
await_log "the kernel holds what the script says; nothing written" 1
sleep 3
expect_same_state "after kill -9 and restart" "$before"
expect_eq "counters after the restart" "$(counters)" "$counted"
say "$held" after-restart
case $(lvsh status | grep "rs $RS2:7") in
    *", draining since "*": 1 active / 0 inactive connections (1 left), no deadline, removed once drained") ok "status: still draining" ;;
    *) lvsh status; fail "status of rs2 after the restart" ;;
esac
await_metric "lvsh_server_connections{$L,state=\"active\"} 1" 10

step "the connection closes: watch ends the drain and removes rs2"
t0=$(now_ms)
run kill "$(cat "$LAB_TMP/pid.$held")"
eval "exec $((held + 4))>&-"
await_log "rs $RS2:7 of tcp $VIP:7: draining -> drained (connections ended); removing it" 15
await_weight "$S" "$RS2:7" absent 5
ok "rs2 removed $(( $(now_ms) - t0 )) ms after its connection closed"
await_log "wrote: rs $RS2:7 of tcp $VIP:7: removed" 1
out=$(lvsh status)
echo "$out"
expect_line "status" "$out" "Recorded, but no longer in the kernel:"
expect_eq "new connections" "$(hello) $(hello)" "rs1 rs1"
out=$(lvsh apply --yes "$lb" 2>&1) || fail "apply: $out"
echo "$out"
expect_eq "rs2 after an apply" "$(weight_of "$S" "$RS2:7")" absent

step "undrain: watch puts rs2 back at its weight"
run lvsh undrain "$RS2"
await_weight "$S" "$RS2:7" 10 10
expect_alternating "new connections" "$(for n in 1 2 3 4; do hello; done | tr '\n' ' ')"
watch_stop TERM
