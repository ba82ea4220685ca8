# lvsh-watch.service runs `lvsh watch` as root with CAP_NET_ADMIN as its only
# capability (CapabilityBoundingSet=, AmbientCapabilities=, NoNewPrivileges=).
# Here util-linux's setpriv (busybox's applet has no --bounding-set) gives it the
# same, and it does its whole job: the first apply of IPVS and nft, probes that
# take a stopped server out and back, and a weight changed by a reload on SIGHUP.
# lab-timeout: 90
. /lab/lib/lab.sh
. /lab/lib/watch.sh
topo_up

write_script() { # WEIGHT of rs2
    rhai lb <<RHAI >/dev/null
service("$VIP", 80).scheduler("rr")
    .check(http("/").every(1).timeout(0.5).rise(1).fall(2))
    .rs(rs("$RS1").dr()).rs(rs("$RS2").dr().weight($1));
mark(20).vip("$VIP").ports([443]).scheduler("rr").rs(rs("$RS1").dr());
RHAI
}
S="-t $VIP:80"

step "watch starts with CAP_NET_ADMIN only and applies the script to an empty kernel"
write_script 1
echo "+ setpriv --bounding-set=-all,+net_admin --inh-caps=-all,+net_admin --ambient-caps=+net_admin --no-new-privs lvsh watch $LAB_TMP/lb.rhai &"
/usr/bin/setpriv --bounding-set=-all,+net_admin --inh-caps=-all,+net_admin --ambient-caps=+net_admin \
    --no-new-privs lvsh watch "$LAB_TMP/lb.rhai" >>"$WATCH_LOG" 2>&1 &
WATCH_PID=$!
await_log "watching " 30 0
expect_line "its capabilities" "$(grep -E '^Cap(Eff|Bnd)' /proc/$WATCH_PID/status | tr '\t' ' ')" \
    "CapEff: 0000000000001000"
expect_line "its bounding set" "$(grep -E '^CapBnd' /proc/$WATCH_PID/status | tr '\t' ' ')" \
    "CapBnd: 0000000000001000"
await_weight "$S" "$RS1:80" 1 10
await_weight "$S" "$RS2:80" 1 10
expect_line "its nft rule" "$(nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
    "ip daddr $VIP tcp dport 443 meta mark set 0x00000014 comment \"lvsh mark 20\""

step "a probe takes a stopped server out, and back once it answers"
httpd_stop rs1 80
await_weight "$S" "$RS1:80" 0 10
httpd_start rs1 80
await_weight "$S" "$RS1:80" 1 10

step "a weight changed in the script, reloaded on SIGHUP"
write_script 5
from=$(log_lines)
kill -HUP "$WATCH_PID"
await_log "reloading after SIGHUP" 10 "$from"
await_weight "$S" "$RS2:80" 5 10
expect_no_line "no permission error" "$(cat "$WATCH_LOG")" "ermission\|EPERM"
watch_stop
