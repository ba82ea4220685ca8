# `lvsh watch` keeps each real server's weight right from its health check: a
# stopped web server goes to weight 0 within fall × every + timeout and clients
# reach only the other server; `lvsh apply` of an edited script while it is down
# keeps it at 0; it comes back after `rise` good probes. Starting watch, kill -9
# and a restart while a server is down, and stopping it write nothing.
# lab-timeout: 150
. /lab/lib/lab.sh
. /lab/lib/watch.sh
topo_up

script() { # NAME SCHEDULER
    rhai "$1" <<RHAI
service("$VIP", 80).scheduler("$2")
    .check(http("/").every(1).timeout(0.5).rise(2).fall(2))
    .rs(rs("$RS1").dr()).rs(rs("$RS2").dr());
RHAI
}
S="-t $VIP:80"

step "apply the script, then start watch: the kernel already holds it"
lvsh_apply "$(script lb rr)"
before=$(kernel_state)
watch_start "$LAB_TMP/lb.rhai"
await_log "the kernel holds what the script says; nothing written" 1
await_log "rs $RS1:80 of tcp $VIP:80: unknown -> up" 10
await_log "rs $RS2:80 of tcp $VIP:80: unknown -> up" 10
expect_same_state "after watch started and both servers rose" "$before"

step "stop rs1's web server: weight 0 within fall × every + timeout"
httpd_stop rs1 80
await_weight "$S" "$RS1:80" 0 10
# Two failed probes a second apart, the first up to a second after the stop,
# plus the write: 3 s; 1.5 s more for the emulated machine.
[ "$WAITED_MS" -le 4500 ] || fail "detection took $WAITED_MS ms (bound 4500 ms)"
await_log "rs $RS1:80 of tcp $VIP:80: up -> down (" 1
expect_eq "rs2's weight" "$(weight_of "$S" "$RS2:80")" 1
expect_same "client to VIP:80 while rs1 is down" "$(ask client $(repeat 6 80))"
expect_eq "who answers" "$(ask client 80)" rs2

step "lvsh apply of an edited script while rs1 is down keeps it at 0"
# Outside watch's directory: a change there would make it reload its own script.
edited="$LAB_TMP/../$(basename "$LAB_TMP")-edited.rhai"
mv "$(script edited wrr)" "$edited"
out=$(lvsh apply --yes "$edited" 2>&1)
echo "$out"
expect_eq "rs1's weight after the apply" "$(weight_of "$S" "$RS1:80")" 0
expect_line "the scheduler changed" "$(ipvsadm -S -n)" "-A -t $VIP:80 -s wrr"
case $out in
    *"$RS1:80"*down*) ok "the plan says rs1 is held because it is down" ;;
    *) fail "the plan does not say why rs1 stays at 0" ;;
esac

step "start rs1's web server: back after rise × every"
httpd_start rs1 80
await_weight "$S" "$RS1:80" 1 10
await_log "rs $RS1:80 of tcp $VIP:80: down -> up (status 200" 1
expect_alternating "client to VIP:80 with both up" "$(ask client $(repeat 6 80))"

step "kill -9 of watch while rs1 is down; the restart resumes and writes nothing"
httpd_stop rs1 80
await_weight "$S" "$RS1:80" 0 10
sleep 1
before=$(kernel_state)
watch_stop KILL
# The edited script is what the kernel holds now (its scheduler came from the apply).
watch_start "$edited"
await_log "the kernel holds what the script says; nothing written" 1
sleep 3
expect_same_state "after kill -9 and restart" "$before"
expect_eq "rs1's weight" "$(weight_of "$S" "$RS1:80")" 0
run lvsh history

step "SIGTERM stops watch and leaves the table as it is"
watch_stop TERM
await_log "stopping; the kernel's table is left as it is" 1
expect_same_state "after stop" "$before"
